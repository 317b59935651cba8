using System.Globalization;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>The failure event of an activity whose every retry failed (pure: the orchestrator records it).</summary>
public static class ActivityOutcomes
{
    /// <summary>The reason code of an activity given up after its retries.</summary>
    public const string GaveUpReasonCode = "gave_up_after_retries";

    /// <summary>
    /// The event that settles <paramref name="command"/> once <paramref name="attempts"/> attempts failed transiently;
    /// <paramref name="lastErrorType"/> is the last exception's type name (messages may quote a service or an address).
    /// Null for a command without an outcome.
    /// </summary>
    public static OrchestrationEvent? GaveUp(OrchestrationCommand command, DateTimeOffset at, int attempts, string? lastErrorType)
    {
        ArgumentNullException.ThrowIfNull(command);
        var why = string.Create(CultureInfo.InvariantCulture, $"Gave up after {attempts} failed attempts (last error: {lastErrorType ?? "unknown"}).");
        return command switch
        {
            StoreStudyActivity store => new StoreStudyFailed(store.CommandId + "/failed", at, store.CommandId, store.StudyInstanceUid, GaveUpReasonCode + ": " + why),
            DeleteStudyActivity delete => new RemovalFailed(delete.CommandId + "/failed", at, delete.CommandId, GaveUpReasonCode, why + " The study may still be there."),
            PurgeStudiesActivity purge => new RemovalFailed(purge.CommandId + "/failed", at, purge.CommandId, GaveUpReasonCode, why + " The studies may still be there."),
            SendExpertiseEmailActivity email => new ExpertiseEmailFailed(
                email.CommandId + "/failed", at, email.CommandId, CommandIds.ExpertiseMessageId(email.CommandId), GaveUpReasonCode,
                why + " The e-mail may or may not have reached the SMTP relay; check with the recipients."),
            PublishManifestActivity publish => new ManifestPublishFailed(publish.CommandId + "/failed", at, publish.CommandId, GaveUpReasonCode, why + " The DICOM service may hold an outdated manifest."),
            _ => null,
        };
    }
}
