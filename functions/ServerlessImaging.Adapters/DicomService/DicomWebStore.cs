using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Dicom.Web.Stow;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.DicomService;

/// <summary>The cloud DICOM service through our DICOMweb client: STOW-RS streamed from staging, QIDO-RS to verify, DELETE.</summary>
/// <remarks>
/// Orthanc's DICOMweb plugin (the local stand-in) has no DELETE and answers 405. With <paramref name="orthancRestBaseUrl"/>
/// set (local runs only) the delete goes through Orthanc's own REST API instead (<c>POST /tools/lookup</c>,
/// <c>DELETE /studies/{id}</c>); without it a 405 surfaces (the removal activity records it as failed for good).
/// </remarks>
public sealed class DicomWebStore(DicomWebClient client, string viewerStudyUrlTemplate, Uri? orthancRestBaseUrl = null, HttpClient? orthancHttp = null) : IDicomStore, IDicomInventory
{
    /// <summary>Placeholder of the viewer template (the <c>Viewer__StudyUrlTemplate</c> setting).</summary>
    public const string StudyUidPlaceholder = "{StudyInstanceUID}";

    /// <inheritdoc />
    public async Task<DicomStoreResult> StoreAsync(string studyInstanceUid, IReadOnlyList<Func<CancellationToken, Task<Stream>>> instances, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(studyInstanceUid);
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            return new DicomStoreResult(0, 0, 0);
        }

        var parts = instances.Select(open => StowInstance.FromFactory(async ct => await open(ct))).ToList();
        var result = await client.StoreAsync(parts, studyInstanceUid, cancellationToken);
        var duplicates = result.Failed.Count(f => f.IsDuplicate);
        return new DicomStoreResult(result.Stored.Count, duplicates, result.Failed.Count - duplicates + result.UnreportedCount);
    }

    /// <inheritdoc />
    public async Task DeleteStudyAsync(string studyInstanceUid, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteAsync(studyInstanceUid, cancellationToken: cancellationToken);
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Absent is success: deletes are retried by the engine.
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.MethodNotAllowed && orthancRestBaseUrl is not null)
        {
            await DeleteThroughOrthancRestAsync(studyInstanceUid, cancellationToken);
        }
    }

    private async Task DeleteThroughOrthancRestAsync(string studyInstanceUid, CancellationToken cancellationToken)
    {
        var http = orthancHttp ?? SharedHttp;
        using var lookup = await http.PostAsync(new Uri(orthancRestBaseUrl!, "tools/lookup"), new StringContent(studyInstanceUid), cancellationToken);
        lookup.EnsureSuccessStatusCode();
        using var document = await System.Text.Json.JsonDocument.ParseAsync(await lookup.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        foreach (var match in document.RootElement.EnumerateArray())
        {
            if (match.GetProperty("Type").GetString() == "Study" && match.GetProperty("ID").GetString() is { } id)
            {
                using var deleted = await http.DeleteAsync(new Uri(orthancRestBaseUrl!, "studies/" + id), cancellationToken);
                if (deleted.StatusCode != System.Net.HttpStatusCode.NotFound)
                {
                    deleted.EnsureSuccessStatusCode();
                }
            }
        }
    }

    private static readonly HttpClient SharedHttp = new();

    /// <inheritdoc />
    public Uri ViewerLinkFor(string studyInstanceUid) =>
        new(viewerStudyUrlTemplate.Replace(StudyUidPlaceholder, Uri.EscapeDataString(studyInstanceUid), StringComparison.Ordinal));

    /// <inheritdoc />
    public async Task<IReadOnlySet<string>> InstancesOfStudyAsync(string studyInstanceUid, CancellationToken cancellationToken)
    {
        var uids = new HashSet<string>(StringComparer.Ordinal);
        var query = QidoQuery.Instances(studyInstanceUid).Include("SOPInstanceUID");
        try
        {
            await foreach (var dataset in client.SearchAsync(query, cancellationToken))
            {
                if (dataset.GetStringOrDefault(DicomTag.SOPInstanceUID) is { Length: > 0 } uid)
                {
                    uids.Add(uid.Trim());
                }
            }
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Some services answer 404 for a study they do not hold.
        }

        return uids;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredInstance>> StoredInstancesOfStudyAsync(string studyInstanceUid, CancellationToken cancellationToken)
    {
        var instances = new List<StoredInstance>();
        var query = QidoQuery.Instances(studyInstanceUid).Include("SeriesInstanceUID").Include("SOPClassUID").Include("SOPInstanceUID");
        try
        {
            await foreach (var dataset in client.SearchAsync(query, cancellationToken))
            {
                if (dataset.GetStringOrDefault(DicomTag.SOPInstanceUID) is { Length: > 0 } sop
                    && dataset.GetStringOrDefault(DicomTag.SeriesInstanceUID) is { Length: > 0 } series
                    && dataset.GetStringOrDefault(DicomTag.SOPClassUID) is { Length: > 0 } sopClass)
                {
                    instances.Add(new StoredInstance(studyInstanceUid, series.Trim(), sopClass.Trim(), sop.Trim()));
                }
            }
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Some services answer 404 for a study they do not hold.
        }

        return instances;
    }
}
