using System.Globalization;
using System.Net.Http.Json;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>A synthetic patient with a unique name and birth date, and the studies the test stores for them in a site PACS.</summary>
internal sealed record SeededPatient(PatientIdentity Identity, string DicomName, IReadOnlyDictionary<string, IReadOnlyList<string>> InstancesByStudy);

/// <summary>Writes tiny instances with the toolkit and C-STOREs them into a site PACS: the test's own ground truth.</summary>
internal static class PacsSeed
{
    private const string SecondaryCapture = "1.2.840.10008.5.1.4.1.1.7";

    /// <summary>A new patient; <paramref name="instancesPerStudy"/> gives one study per entry with that many instances.</summary>
    public static Task<SeededPatient> StoreAsync(SitePacs pacs, params int[] instancesPerStudy) => StoreAsync(pacs, null, instancesPerStudy);

    /// <summary>
    /// As <see cref="StoreAsync(SitePacs, int[])"/>, with <paramref name="alter"/> changing an instance (study index,
    /// instance index, dataset) before it is sent: a PACS-side mix-up. Instances are sent in order, so altering a study's
    /// last instance leaves the study's own attributes (what C-FIND answers) those of its first.
    /// </summary>
    public static async Task<SeededPatient> StoreAsync(SitePacs pacs, Func<int, int, DicomDataset, DicomDataset>? alter, params int[] instancesPerStudy)
    {
        var family = "RUNTIME" + UniqueNames.PatientSuffix();
        var birthDate = new DateOnly(1925, 1, 1).AddDays(Random.Shared.Next(0, 365 * 70));
        var identity = new PatientIdentity(family, null, "Camille", birthDate, PatientSex.Female, null);
        var directory = Directory.CreateTempSubdirectory("si-seed-");
        var byStudy = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        try
        {
            var files = new List<string>();
            for (var s = 0; s < instancesPerStudy.Length; s++)
            {
                var studyUid = UniqueNames.DicomUid();
                var seriesUid = UniqueNames.DicomUid();
                var sops = new List<string>();
                for (var i = 0; i < instancesPerStudy[s]; i++)
                {
                    var sop = UniqueNames.DicomUid();
                    var ds = new DicomDataset()
                        .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
                        .AddOrUpdate(DicomTag.SOPClassUID, SecondaryCapture)
                        .AddOrUpdate(DicomTag.SOPInstanceUID, sop)
                        .AddOrUpdate(DicomTag.StudyInstanceUID, studyUid)
                        .AddOrUpdate(DicomTag.SeriesInstanceUID, seriesUid)
                        .AddOrUpdate(DicomTag.StudyDate, new DateOnly(2024, 1, 10).AddDays(s).ToString("yyyyMMdd", CultureInfo.InvariantCulture))
                        .AddOrUpdate(DicomTag.StudyDescription, "Etude " + (s + 1).ToString(CultureInfo.InvariantCulture))
                        .AddOrUpdate(DicomTag.Modality, s % 2 == 0 ? "CT" : "MR")
                        .AddOrUpdate(DicomTag.PatientName, family + "^CAMILLE")
                        .AddOrUpdate(DicomTag.PatientID, "RT-" + family)
                        .AddOrUpdate(DicomTag.PatientBirthDate, birthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
                        .AddOrUpdate(DicomTag.PatientSex, "F")
                        .AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(CultureInfo.InvariantCulture));
                    ds = alter?.Invoke(s, i, ds) ?? ds;
                    var path = Path.Combine(directory.FullName, sop + ".dcm");
                    await using (var stream = File.Create(path))
                    {
                        await new DicomFile(ds).SaveAsync(stream);
                    }

                    files.Add(path);
                    sops.Add(sop);
                }

                byStudy[studyUid] = sops;
            }

            var client = new DicomClient(new DicomClientOptions { Host = pacs.Host, Port = pacs.DicomPort, CallingAeTitle = "SI_TEST", CalledAeTitle = pacs.AeTitle });
            var results = await client.StoreAsync(files);
            Assert.All(results, r => Assert.True(r.Succeeded, "C-STORE into the site PACS failed: " + r.Error));
            return new SeededPatient(identity, family + "^CAMILLE", byStudy);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Removes a study from an Orthanc site PACS (REST: lookup then delete).</summary>
    public static async Task DeleteFromOrthancAsync(SitePacs pacs, string studyUid)
    {
        using var http = new HttpClient { BaseAddress = pacs.HttpUrl };
        using var lookup = await http.PostAsync("tools/lookup", new StringContent(studyUid));
        lookup.EnsureSuccessStatusCode();
        foreach (var match in await lookup.Content.ReadFromJsonAsync<List<OrthancLookup>>() ?? [])
        {
            using var deleted = await http.DeleteAsync("studies/" + match.ID);
            deleted.EnsureSuccessStatusCode();
        }
    }

    private sealed record OrthancLookup(string ID, string Type);
}
