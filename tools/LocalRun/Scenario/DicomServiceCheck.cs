using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.LocalRun.Scenario;

/// <summary>One study found in the DICOM service.</summary>
internal sealed record AvailableStudy(string StudyUid, int Instances);

/// <summary>
/// The run's self-check against the DICOM service: QIDO-RS for what must (and must not) be there. Also clears those
/// studies before the run through Orthanc's REST API (the local stand-in; its DICOMweb plugin has no DELETE).
/// </summary>
internal sealed class DicomServiceCheck(StackEndpoints stack) : IDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task RemoveAsync(IReadOnlyList<ManifestStudy> studies, CancellationToken cancellationToken)
    {
        foreach (var study in studies)
        {
            await DeleteAsync(study.StudyInstanceUid, cancellationToken);

            // And from the meeting site's PACS, so the delivery the run shows is this run's.
            if (stack.MeetingPacs?.HttpUrl is { } meetingPacs)
            {
                await DeleteFromOrthancAsync(http, meetingPacs, study.StudyInstanceUid, cancellationToken);
            }
        }
    }

    /// <summary>Deletes a study from the DICOM service, if there (Orthanc REST: its DICOMweb plugin has no DELETE).</summary>
    public Task DeleteAsync(string studyUid, CancellationToken cancellationToken) => DeleteFromOrthancAsync(http, stack.DicomServiceHttpUrl, studyUid, cancellationToken);

    /// <summary>
    /// Deletes every study of the patients whose DICOM name matches <paramref name="patientNamePattern"/> (Orthanc
    /// wildcards) from the DICOM service: what a run's registrations left there that it did not load itself (their
    /// imaging manifests), and whatever an interrupted run left. Returns how many studies went.
    /// </summary>
    public async Task<int> DeleteStudiesOfPatientsAsync(string patientNamePattern, CancellationToken cancellationToken)
    {
        var query = JsonSerializer.Serialize(new { Level = "Study", Query = new { PatientName = patientNamePattern } });
        using var found = await http.PostAsync(new Uri(stack.DicomServiceHttpUrl, "tools/find"), new StringContent(query, Encoding.UTF8, "application/json"), cancellationToken);
        found.EnsureSuccessStatusCode();
        using var ids = JsonDocument.Parse(await found.Content.ReadAsStringAsync(cancellationToken));
        var deleted = 0;
        foreach (var id in ids.RootElement.EnumerateArray().Select(e => e.GetString()))
        {
            using var response = await http.DeleteAsync(new Uri(stack.DicomServiceHttpUrl, "studies/" + id), cancellationToken);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                response.EnsureSuccessStatusCode();
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>How many instances of the study the DICOM service holds, by QIDO-RS.</summary>
    public async Task<int> CountInstancesAsync(string studyUid, CancellationToken cancellationToken) =>
        (await QidoAsync($"studies/{studyUid}/instances?includefield=00080018", cancellationToken)).Count;

    /// <summary>Deletes a study (if present) through an Orthanc's REST API (<paramref name="orthanc"/> = its HTTP root).</summary>
    public static async Task DeleteFromOrthancAsync(HttpClient http, Uri orthanc, string studyUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var lookup = await http.PostAsync(new Uri(orthanc, "tools/lookup"), new StringContent(studyUid, Encoding.ASCII), cancellationToken);
        lookup.EnsureSuccessStatusCode();
        using var found = JsonDocument.Parse(await lookup.Content.ReadAsStringAsync(cancellationToken));
        foreach (var item in found.RootElement.EnumerateArray().Where(i => i.GetProperty("Type").GetString() == "Study"))
        {
            using var deleted = await http.DeleteAsync(new Uri(orthanc, "studies/" + item.GetProperty("ID").GetString()), cancellationToken);
            deleted.EnsureSuccessStatusCode();
        }
    }

    /// <summary>Selected studies hold exactly the manifest's instances; nothing else of the patient or the near-misses is there.</summary>
    public async Task<IReadOnlyList<AvailableStudy>> VerifyAsync(RegionManifest manifest, ScenarioPatient chosen, IReadOnlyList<string> selected, CancellationToken cancellationToken)
    {
        var available = new List<AvailableStudy>();
        foreach (var uid in selected)
        {
            var study = manifest.Studies.FirstOrDefault(s => s.StudyInstanceUid == uid)
                ?? throw new LocalRunException($"selected study {uid} is not in the manifest");
            var expected = study.Series.SelectMany(s => s.Instances).Select(i => i.SopInstanceUid).Order(StringComparer.Ordinal).ToList();
            var found = (await QidoAsync($"studies/{uid}/instances?includefield=00080018", cancellationToken))
                .Select(i => i.GetProperty("00080018").GetProperty("Value")[0].GetString()!)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (!found.SequenceEqual(expected))
            {
                throw new LocalRunException($"self-check: study {uid} holds {found.Count} instance(s) in the DICOM service, the manifest says {expected.Count} ({found.Except(expected).Count()} unexpected, {expected.Except(found).Count()} missing)");
            }

            available.Add(new AvailableStudy(uid, found.Count));
        }

        foreach (var study in chosen.AllRelevantStudies(manifest).Where(s => !selected.Contains(s.StudyInstanceUid)))
        {
            if ((await QidoAsync($"studies?StudyInstanceUID={study.StudyInstanceUid}", cancellationToken)).Count > 0)
            {
                var whose = study.PatientKey == chosen.Patient.Key ? "an unselected study of the patient" : $"a study of near-miss person {study.PatientKey}";
                throw new LocalRunException($"self-check: the DICOM service holds {whose} ({study.StudyInstanceUid})");
            }
        }

        return available;
    }

    public void Dispose() => http.Dispose();

    private async Task<List<JsonElement>> QidoAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(stack.DicomWebBaseUrl, relative));
        request.Headers.Accept.ParseAdd("application/dicom+json");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        using var document = JsonDocument.Parse(text);
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }
}
