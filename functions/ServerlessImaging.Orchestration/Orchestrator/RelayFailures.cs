using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>What a relay's failure reason means for the flow: its stable code, and whether a later attempt may cure it.</summary>
public static class RelayFailures
{
    /// <summary>Causes a later attempt can cure (storage or PACS back, a fresh credential); the others would fail the same way.</summary>
    public static bool IsTransient(FailureReason reason) =>
        reason is FailureReason.StagingFailed or FailureReason.PacsUnreachable or FailureReason.Timeout or FailureReason.Internal or FailureReason.CredentialExpired;

    /// <summary>The stable snake_case code recorded on a study or delivery that failed for <paramref name="reason"/>.</summary>
    public static string CodeOf(FailureReason reason) => reason switch
    {
        FailureReason.PacsUnreachable => "pacs_unreachable",
        FailureReason.PacsRejected => "pacs_rejected",
        FailureReason.Timeout => "timeout",
        FailureReason.StudyNotFound => "study_not_found",
        FailureReason.StagingFailed => "staging_failed",
        FailureReason.CredentialExpired => "credential_expired",
        FailureReason.Cancelled => "cancelled",
        FailureReason.InvalidCommand => "invalid_command",
        FailureReason.Internal => "relay_error",
        _ => "unknown",
    };
}
