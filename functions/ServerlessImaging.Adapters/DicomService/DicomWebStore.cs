using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Dicom.Web.Stow;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.DicomService;

/// <summary>The cloud DICOM service through our DICOMweb client: STOW-RS streamed from staging, QIDO-RS to verify, WADO-RS of small instances (the manifest), DELETE.</summary>
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
            await DeleteThroughOrthancRestAsync(studyInstanceUid, "Study", "studies/", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task DeleteInstanceAsync(string studyInstanceUid, string seriesInstanceUid, string sopInstanceUid, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteAsync(studyInstanceUid, seriesInstanceUid, sopInstanceUid, cancellationToken);
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Absent is success: deletes are retried by the engine.
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.MethodNotAllowed && orthancRestBaseUrl is not null)
        {
            await DeleteThroughOrthancRestAsync(sopInstanceUid, "Instance", "instances/", cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<byte[]?> ReadInstanceAsync(string studyInstanceUid, string seriesInstanceUid, string sopInstanceUid, int maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.RetrieveAsync(studyInstanceUid, seriesInstanceUid, sopInstanceUid, cancellationToken);
            await using (response)
            {
                if (await response.ReadNextPartAsync(cancellationToken) is not { } part)
                {
                    return null;
                }

                using var copy = new MemoryStream();
                var buffer = new byte[81920];
                int read;
                while ((read = await part.Body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    if (copy.Length + read > maxBytes)
                    {
                        throw new InvalidOperationException($"The instance is larger than {maxBytes} bytes.");
                    }

                    copy.Write(buffer, 0, read);
                }

                return copy.ToArray();
            }
        }
        catch (DicomWebException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    // Orthanc's own REST API: look the UID up, delete what it names (a study or an instance).
    private async Task DeleteThroughOrthancRestAsync(string uid, string type, string resource, CancellationToken cancellationToken)
    {
        var http = orthancHttp ?? SharedHttp;
        using var lookup = await http.PostAsync(new Uri(orthancRestBaseUrl!, "tools/lookup"), new StringContent(uid), cancellationToken);
        lookup.EnsureSuccessStatusCode();
        using var document = await System.Text.Json.JsonDocument.ParseAsync(await lookup.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        foreach (var match in document.RootElement.EnumerateArray())
        {
            if (match.GetProperty("Type").GetString() == type && match.GetProperty("ID").GetString() is { } id)
            {
                using var deleted = await http.DeleteAsync(new Uri(orthancRestBaseUrl!, resource + id), cancellationToken);
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
