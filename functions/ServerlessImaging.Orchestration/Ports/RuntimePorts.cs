namespace ServerlessImaging.Orchestration.Ports;

// Ports the orchestration runtime needs beyond the core ones in Ports.cs: finding outboxes a crash left
// behind, mapping start requests to instances, and verifying what the DICOM service holds.

/// <summary>Finds registrations whose outbox still holds commands (a crash between save and dispatch, or a failed dispatch).</summary>
public interface IPendingOutboxQuery
{
    /// <summary>Ids of registrations with undispatched commands written before <paramref name="olderThan"/>.</summary>
    Task<IReadOnlyList<string>> RegistrationsWithPendingOutboxAsync(DateTimeOffset olderThan, int max, CancellationToken cancellationToken);
}

/// <summary>Maps a start request's idempotency key to the orchestration instance it started.</summary>
public interface IStartRequestIndex
{
    /// <summary>
    /// Claims <paramref name="idempotencyKey"/> for <paramref name="registrationId"/>; returns the registration id that owns the key
    /// (this one when the claim is new, the first one otherwise).
    /// </summary>
    Task<string> ClaimAsync(string idempotencyKey, string registrationId, CancellationToken cancellationToken);
}

/// <summary>What the DICOM service holds for a study (QIDO-RS), to verify a store.</summary>
public interface IDicomInventory
{
    /// <summary>SOP Instance UIDs of the study in the DICOM service (empty when absent).</summary>
    Task<IReadOnlySet<string>> InstancesOfStudyAsync(string studyInstanceUid, CancellationToken cancellationToken);
}

/// <summary>Moves a relay event that can never be applied (unknown registration) to the poison path, reported, not retried.</summary>
public interface IRelayEventQuarantine
{
    /// <summary>Quarantines <paramref name="message"/>; <paramref name="safeDetail"/> carries no patient data.</summary>
    Task QuarantineAsync(ReceivedMessage message, string safeDetail, CancellationToken cancellationToken);
}

/// <summary>How often, and since when, dispatching one outbox command has failed.</summary>
/// <param name="Attempts">Failed attempts so far, the one just recorded included.</param>
/// <param name="FirstFailedAt">When the first recorded attempt failed.</param>
public sealed record DispatchFailureCount(int Attempts, DateTimeOffset FirstFailedAt);

/// <summary>Counts the failed dispatches of an outbox command, durably, so a retry limit holds across restarts and instances.</summary>
public interface IDispatchFailureLog
{
    /// <summary>Records one failed attempt of <paramref name="commandId"/> and returns the count so far.</summary>
    Task<DispatchFailureCount> RecordFailureAsync(string registrationId, string commandId, DateTimeOffset at, CancellationToken cancellationToken);
}
