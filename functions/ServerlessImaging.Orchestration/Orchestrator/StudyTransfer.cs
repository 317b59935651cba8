using System.Collections.Immutable;
using System.Text.Json.Serialization;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// What the registration hands to one selected study's transfer (a sub-orchestration, instance id
/// <see cref="TransferId"/>): retrieve it through the relay of each site holding it in turn, store it in the DICOM
/// service, retry transient failures in rounds on a durable timer.
/// </summary>
/// <param name="TransferId">The sub-orchestration's instance id (<see cref="CommandIds.StudyTransfer"/>).</param>
/// <param name="RegistrationId">The registration.</param>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="SiteIds">Sites holding the study, in the order to try them.</param>
/// <param name="Patient">The registration's patient: every staged instance is checked against it before it is stored.</param>
/// <param name="PatientKey">The pseudonymous patient key of the audit records.</param>
/// <param name="MaxRounds">Rounds over the sites before a transient failure is given up.</param>
/// <param name="RetryInterval">Wait between two rounds.</param>
public sealed record StudyTransferInput(
    string TransferId,
    string RegistrationId,
    string StudyInstanceUid,
    ImmutableArray<string> SiteIds,
    PatientIdentity Patient,
    string PatientKey,
    int MaxRounds,
    TimeSpan RetryInterval);

/// <summary>How a study's transfer ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StudyTransferResult>))]
public enum StudyTransferResult
{
    /// <summary>Stored and verified in the DICOM service.</summary>
    Available,

    /// <summary>Could not be made available (see the failure).</summary>
    Failed,

    /// <summary>Stopped at the registration's request (the study deleted, or the registration purged).</summary>
    Cancelled,
}

/// <summary>
/// The outcome of a study's transfer, what the registration records. <paramref name="MayHaveStored"/> is true when a
/// store into the DICOM service ran or was running when the transfer was cancelled: the registration then removes the
/// study again, since a store may have finished after the removal.
/// </summary>
/// <param name="TransferId">The transfer.</param>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="Result">How it ended.</param>
/// <param name="SiteId">The site it was (last) retrieved from.</param>
/// <param name="Attempts">Retrieval attempts this transfer made.</param>
/// <param name="InstancesStored">Instances stored, when available.</param>
/// <param name="Failure">Why it failed, when it did.</param>
/// <param name="MayHaveStored">A store ran or was running when the transfer was cancelled.</param>
public sealed record StudyTransferOutcome(
    string TransferId,
    string StudyInstanceUid,
    StudyTransferResult Result,
    string? SiteId,
    int Attempts,
    int InstancesStored,
    StudyFailure? Failure,
    bool MayHaveStored)
{
    /// <summary>
    /// The transfer's last audit records (stored, store failed, failed for good), numbered in its own trail and not
    /// written yet: the registration's commit of the outcome writes them.
    /// </summary>
    public IReadOnlyList<WriteAuditActivity> ClosingAudit { get; init; } = [];
}

/// <summary>
/// Where a study's transfer stands, as its sub-orchestration last recorded it for the API (highest
/// <see cref="Version"/> wins). The registration's own state says which transfer is current; the read model overlays
/// the current one's progress on the study (<see cref="OverlayOn"/>).
/// </summary>
/// <param name="RegistrationId">The registration.</param>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="TransferId">The transfer.</param>
/// <param name="Version">Increases with every step of the transfer.</param>
/// <param name="Status"><see cref="StudyStatus.Retrieving"/>, <see cref="StudyStatus.Storing"/>, or <see cref="StudyStatus.Pending"/> while waiting for the next round.</param>
/// <param name="SiteId">The site retrieving it (or that last did).</param>
/// <param name="Attempt">Retrieval attempt number.</param>
/// <param name="Round">Round over the sites (1, then +1 per automatic retry).</param>
/// <param name="InstancesDone">Instances staged so far.</param>
/// <param name="InstancesTotal">Instances the relay expects (0 until known).</param>
/// <param name="BytesDone">Bytes staged so far.</param>
/// <param name="Failure">Why the last attempt failed, if it did.</param>
/// <param name="NextAttemptAt">When the next round starts, while waiting for it.</param>
public sealed record StudyTransferProgress(
    string RegistrationId,
    string StudyInstanceUid,
    string TransferId,
    long Version,
    StudyStatus Status,
    string? SiteId,
    int Attempt,
    int Round,
    int InstancesDone,
    int InstancesTotal,
    long BytesDone,
    StudyFailure? Failure,
    DateTimeOffset? NextAttemptAt)
{
    /// <summary>
    /// <paramref name="state"/> with this progress shown on its study, when the study's current transfer is this one and
    /// still in flight (the registration's own record wins once the transfer settled). Anything else leaves
    /// <paramref name="state"/> as it is: another registration's progress, a study not selected, a study no longer
    /// <see cref="StudyStatus.Retrieving"/> in the registration's record, an earlier transfer of the study, or a
    /// progress whose <see cref="Status"/> is not one of a transfer in flight.
    /// </summary>
    public RegistrationState OverlayOn(RegistrationState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!string.Equals(state.RegistrationId, RegistrationId, StringComparison.Ordinal)
            || Status is not (StudyStatus.Retrieving or StudyStatus.Storing or StudyStatus.Pending)
            || string.IsNullOrEmpty(TransferId))
        {
            return state;
        }

        // Found by UID, not by value: a study not selected has no record to look up.
        var index = -1;
        for (var i = 0; i < state.Selected.Length; i++)
        {
            if (string.Equals(state.Selected[i].StudyInstanceUid, StudyInstanceUid, StringComparison.Ordinal))
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            return state;
        }

        var study = state.Selected[index];
        if (study.Status != StudyStatus.Retrieving || !string.Equals(study.CurrentCommandId, TransferId, StringComparison.Ordinal))
        {
            return state;
        }

        var shown = study with
        {
            Status = Status,
            SiteId = SiteId ?? study.SiteId,
            Attempt = Math.Max(Attempt, study.Attempt),
            InstancesDone = InstancesDone,
            InstancesTotal = InstancesTotal,
            BytesDone = BytesDone,
            Failure = Failure,
            RetrievalRound = Round,
            NextAttemptAt = Status == StudyStatus.Pending ? NextAttemptAt : null,
        };
        return state with { Selected = state.Selected.SetItem(index, shown) };
    }
}
