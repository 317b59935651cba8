using System.Globalization;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// DeleteStudy and PurgeStudies: remove from the DICOM service, from staging and the study's instance lists, then report the outcome to the
/// orchestration (which records it in the audit trail). Absent is success, so re-runs are harmless; the result event
/// id derives from the command id, so a re-run reports nothing new. Transient failures throw (the engine retries);
/// a refusal retrying cannot cure becomes <see cref="RemovalFailed"/>.
/// </summary>
public sealed class StudyRemovalActivityRunner(IDicomStore dicom, IStagingStore staging, IStagedInstanceListStore lists, TimeProvider time, ILogger<StudyRemovalActivityRunner> logger)
{
    /// <summary>Deletes one study; <see cref="RemovalCompleted"/> or <see cref="RemovalFailed"/>.</summary>
    public async Task<OrchestrationEvent> DeleteAsync(DeleteStudyActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            await dicom.DeleteStudyAsync(command.StudyInstanceUid, cancellationToken);
            var blobs = await staging.DeletePrefixAsync(command.StagingPrefix, cancellationToken);
            await lists.DeletePrefixAsync(StagedInstanceList.Prefix(command.RegistrationId, command.StudyInstanceUid), cancellationToken);
            logger.LogInformation("Registration {RegistrationId}: study deleted on request ({Blobs} staging blobs).", command.RegistrationId, blobs);
            return Completed(command.CommandId, 1, blobs);
        }
        catch (Exception ex) when (PermanentFailureCode(ex) is { } code)
        {
            return Failed(command.RegistrationId, command.CommandId, code);
        }
    }

    /// <summary>Retention purge of a registration; <see cref="RemovalCompleted"/> or <see cref="RemovalFailed"/>.</summary>
    public async Task<OrchestrationEvent> PurgeAsync(PurgeStudiesActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            foreach (var uid in command.StudyInstanceUids)
            {
                await dicom.DeleteStudyAsync(uid, cancellationToken);
            }

            var blobs = await staging.DeletePrefixAsync(command.StagingRoot, cancellationToken);
            await lists.DeletePrefixAsync(StagedInstanceList.Prefix(command.RegistrationId), cancellationToken);
            logger.LogInformation("Registration {RegistrationId}: purged {Studies} studies and {Blobs} staging blobs.", command.RegistrationId, command.StudyInstanceUids.Length, blobs);
            return Completed(command.CommandId, command.StudyInstanceUids.Length, blobs);
        }
        catch (Exception ex) when (PermanentFailureCode(ex) is { } code)
        {
            return Failed(command.RegistrationId, command.CommandId, code);
        }
    }

    /// <summary>
    /// The reason code of a failure retrying cannot cure (the DICOM service refuses the request or does not support
    /// deletion), or null for anything that may pass later (network, 5xx, throttling, credentials being fixed).
    /// </summary>
    internal static string? PermanentFailureCode(Exception exception) => exception switch
    {
        DicomWebException { Kind: DicomWebFailureKind.BadRequest or DicomWebFailureKind.NotSupported or DicomWebFailureKind.UnsupportedMediaType } web
            => "dicom_service_" + (web.StatusCode is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : web.Kind.ToString().ToLowerInvariant()),
        HttpRequestException { StatusCode: { } status } when (int)status is 400 or 405 or 501 => "dicom_service_" + ((int)status).ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private RemovalCompleted Completed(string commandId, int studies, int blobs) =>
        new(commandId + "/completed", time.GetUtcNow(), commandId, studies, blobs);

    private RemovalFailed Failed(string registrationId, string commandId, string code)
    {
        logger.LogWarning("Registration {RegistrationId}: removal {CommandId} failed for good ({Code}).", registrationId, commandId, code);
        return new RemovalFailed(commandId + "/failed", time.GetUtcNow(), commandId, code, "The DICOM service refused the deletion; the study may still be there.");
    }
}
