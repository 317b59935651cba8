using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// PublishManifest: builds the registration's imaging manifest from what the DICOM service holds (QIDO-RS), stores it
/// in the manifest's own study (STOW-RS), then deletes every other instance of that study, so the DICOM service keeps
/// exactly one revision; with no instance to list it deletes the manifest study (withdrawn). Idempotent: the same set
/// of instances gives the same document UID, and what is already gone counts as deleted. Transient failures throw (the
/// engine retries); a refusal retrying cannot cure becomes <see cref="ManifestPublishFailed"/>.
/// </summary>
public sealed class ManifestPublishActivityRunner(IDicomStore dicom, IDicomInventory inventory, Uri dicomWebBaseUrl, TimeProvider time, ILogger<ManifestPublishActivityRunner> logger)
{
    /// <summary>Publishes <paramref name="command"/>'s revision; <see cref="ManifestPublished"/> or <see cref="ManifestPublishFailed"/>.</summary>
    public async Task<OrchestrationEvent> RunAsync(PublishManifestActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var studyUid = RegistrationManifest.StudyUidOf(command.RegistrationId);
        var seriesUid = RegistrationManifest.SeriesUidOf(command.RegistrationId);
        try
        {
            var manifest = await RegistrationManifest.BuildAsync(command.RegistrationId, command.Patient, command.MeetingTitle, command.StudyInstanceUids, inventory, dicomWebBaseUrl, time.GetUtcNow(), cancellationToken);
            if (manifest is null)
            {
                await dicom.DeleteStudyAsync(studyUid, cancellationToken);
                logger.LogInformation("Registration {RegistrationId}: manifest revision {Revision} withdrawn (nothing to list).", command.RegistrationId, command.Revision);
                return new ManifestPublished(command.CommandId + "/published", time.GetUtcNow(), command.CommandId, command.Revision, studyUid, seriesUid, null, 0);
            }

            var documentUid = manifest.GetString(DicomTag.SOPInstanceUID);
            var listed = manifest.GetSequence(DicomTag.CurrentRequestedProcedureEvidenceSequence).Items
                .SelectMany(study => study.GetSequence(DicomTag.ReferencedSeriesSequence).Items)
                .Sum(series => series.GetSequence(DicomTag.ReferencedSOPSequence).Items.Count);
            var bytes = await new DicomFile(manifest).ToBytesAsync(cancellationToken: cancellationToken);
            var stored = await dicom.StoreAsync(studyUid, [_ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false))], cancellationToken);
            if (stored.Failed > 0)
            {
                throw new InvalidOperationException("The DICOM service did not store the manifest.");
            }

            // Older revisions go only once the new one is in: the service never lacks a manifest in between.
            foreach (var older in (await inventory.StoredInstancesOfStudyAsync(studyUid, cancellationToken)).Where(i => !string.Equals(i.SopInstanceUid, documentUid, StringComparison.Ordinal)))
            {
                await dicom.DeleteInstanceAsync(studyUid, older.SeriesInstanceUid, older.SopInstanceUid, cancellationToken);
            }

            logger.LogInformation("Registration {RegistrationId}: manifest revision {Revision} published ({Instances} instances listed).", command.RegistrationId, command.Revision, listed);
            return new ManifestPublished(command.CommandId + "/published", time.GetUtcNow(), command.CommandId, command.Revision, studyUid, seriesUid, documentUid, listed);
        }
        catch (Exception ex) when (StudyRemovalActivityRunner.PermanentFailureCode(ex) is { } code)
        {
            logger.LogWarning("Registration {RegistrationId}: manifest revision {Revision} failed for good ({Code}).", command.RegistrationId, command.Revision, code);
            return new ManifestPublishFailed(command.CommandId + "/failed", time.GetUtcNow(), command.CommandId, code, "The DICOM service refused the manifest.");
        }
    }
}
