using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Dicom.Web.Stow;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.DicomService;

/// <summary>The cloud DICOM service through our DICOMweb client: STOW-RS streamed from staging, QIDO-RS to verify, DELETE.</summary>
public sealed class DicomWebStore(DicomWebClient client, string viewerStudyUrlTemplate) : IDicomStore, IDicomInventory
{
    /// <summary>Placeholder of the viewer template (the <c>Viewer__StudyUrlTemplate</c> setting).</summary>
    public const string StudyUidPlaceholder = "{StudyInstanceUID}";

    /// <inheritdoc />
    public async Task<DicomStoreResult> StoreAsync(IReadOnlyList<Func<CancellationToken, Task<Stream>>> instances, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            return new DicomStoreResult(0, 0, 0);
        }

        var parts = instances.Select(open => StowInstance.FromFactory(async ct => await open(ct))).ToList();
        var result = await client.StoreAsync(parts, cancellationToken: cancellationToken);
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
            // Absent is success: deletes are retried through the outbox.
        }
    }

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
}
