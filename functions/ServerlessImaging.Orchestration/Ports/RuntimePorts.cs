namespace ServerlessImaging.Orchestration.Ports;

// Ports the orchestration runtime needs beyond the core ones in Ports.cs: mapping start requests to instances,
// verifying what the DICOM service holds, quarantining relay events no registration can take.

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

    /// <summary>Every instance of the study in the DICOM service with its series and SOP class (empty when absent).</summary>
    Task<IReadOnlyList<StoredInstance>> StoredInstancesOfStudyAsync(string studyInstanceUid, CancellationToken cancellationToken);
}

/// <summary>An instance the DICOM service holds.</summary>
public sealed record StoredInstance(string StudyInstanceUid, string SeriesInstanceUid, string SopClassUid, string SopInstanceUid);

/// <summary>Moves a relay event that can never be applied (unknown registration) to the poison path, reported, not retried.</summary>
public interface IRelayEventQuarantine
{
    /// <summary>Quarantines <paramref name="message"/>; <paramref name="safeDetail"/> carries no patient data.</summary>
    Task QuarantineAsync(ReceivedMessage message, string safeDetail, CancellationToken cancellationToken);
}
