using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.FunctionApp.Activities;

/// <summary>DeleteStudy and PurgeStudies: remove from the DICOM service and from staging. Absent is success, so re-runs are harmless.</summary>
public sealed class StudyRemovalActivityRunner(IDicomStore dicom, IStagingStore staging, ILogger<StudyRemovalActivityRunner> logger)
{
    /// <summary>Deletes one study.</summary>
    public async Task DeleteAsync(DeleteStudyActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await dicom.DeleteStudyAsync(command.StudyInstanceUid, cancellationToken);
        await staging.DeletePrefixAsync(command.StagingPrefix, cancellationToken);
        logger.LogInformation("Registration {RegistrationId}: study deleted on request.", command.RegistrationId);
    }

    /// <summary>Retention purge of a registration.</summary>
    public async Task PurgeAsync(PurgeStudiesActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var uid in command.StudyInstanceUids)
        {
            await dicom.DeleteStudyAsync(uid, cancellationToken);
        }

        var blobs = await staging.DeletePrefixAsync(command.StagingRoot, cancellationToken);
        logger.LogInformation("Registration {RegistrationId}: purged {Studies} studies and {Blobs} staging blobs.", command.RegistrationId, command.StudyInstanceUids.Length, blobs);
    }
}
