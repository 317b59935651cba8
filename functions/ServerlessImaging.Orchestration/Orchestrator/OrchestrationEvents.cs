using System.Text.Json.Serialization;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// Everything that can happen to an orchestration. <see cref="EventId"/> deduplicates (a relay message
/// id, a timer id, an API request id); <see cref="At"/> is the orchestrator's only notion of time.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(RegistrationStarted), "RegistrationStarted")]
[JsonDerivedType(typeof(FindAttemptStarted), "FindAttemptStarted")]
[JsonDerivedType(typeof(StudiesFoundAtSite), "StudiesFoundAtSite")]
[JsonDerivedType(typeof(SiteSearchFailed), "SiteSearchFailed")]
[JsonDerivedType(typeof(RelayCommandFailed), "RelayCommandFailed")]
[JsonDerivedType(typeof(SiteHeartbeat), "SiteHeartbeat")]
[JsonDerivedType(typeof(RetrievalProgressed), "RetrievalProgressed")]
[JsonDerivedType(typeof(RetrievalFinished), "RetrievalFinished")]
[JsonDerivedType(typeof(DeliveryProgressed), "DeliveryProgressed")]
[JsonDerivedType(typeof(DeliveryFinished), "DeliveryFinished")]
[JsonDerivedType(typeof(DeliveryStopped), "DeliveryStopped")]
[JsonDerivedType(typeof(StoreStudyCompleted), "StoreStudyCompleted")]
[JsonDerivedType(typeof(StoreStudyFailed), "StoreStudyFailed")]
[JsonDerivedType(typeof(RemovalCompleted), "RemovalCompleted")]
[JsonDerivedType(typeof(RemovalFailed), "RemovalFailed")]
[JsonDerivedType(typeof(ExpertiseEmailSent), "ExpertiseEmailSent")]
[JsonDerivedType(typeof(ExpertiseEmailFailed), "ExpertiseEmailFailed")]
[JsonDerivedType(typeof(ManifestPublished), "ManifestPublished")]
[JsonDerivedType(typeof(ManifestPublishFailed), "ManifestPublishFailed")]
[JsonDerivedType(typeof(SelectionMade), "SelectionMade")]
[JsonDerivedType(typeof(RefreshRequested), "RefreshRequested")]
[JsonDerivedType(typeof(StudyDeleteRequested), "StudyDeleteRequested")]
[JsonDerivedType(typeof(ExpertiseRequested), "ExpertiseRequested")]
[JsonDerivedType(typeof(DurableTimerFired), "DurableTimerFired")]
[JsonDerivedType(typeof(StudyTransferSettled), "StudyTransferSettled")]
public abstract record OrchestrationEvent(string EventId, DateTimeOffset At);

/// <summary>Starts the orchestration (the API raises it once the registration is accepted).</summary>
public sealed record RegistrationStarted(string EventId, DateTimeOffset At, RegistrationPlan Plan) : OrchestrationEvent(EventId, At);

// ---- Activity results reported by relays (see RelayEventTranslator) ----

/// <summary>A site answered a FindStudies command.</summary>
public sealed record StudiesFoundAtSite(string EventId, DateTimeOffset At, string SiteId, string CommandId, IReadOnlyList<FoundStudy> Studies)
    : OrchestrationEvent(EventId, At);

// ---- What a site's search did (the orchestration's site search decides; the state records) ----

/// <summary>
/// A site's search asks the site (again): FindStudies attempt <paramref name="Attempt"/> of search round
/// <paramref name="Round"/>, the <paramref name="AttemptsInBurst"/>-th in a row since the site was last tried after a
/// wait; <paramref name="PreviousFailure"/> is why the attempt before failed, if it did.
/// </summary>
public sealed record FindAttemptStarted(string EventId, DateTimeOffset At, string SiteId, int Round, int Attempt, int AttemptsInBurst, FailureReason? PreviousFailure = null)
    : OrchestrationEvent(EventId, At);

/// <summary>
/// A site's search stopped asking after attempt <paramref name="Attempt"/> failed for <paramref name="Reason"/>: until
/// <paramref name="RetryAt"/> (the site is unreachable, asked again then), or for this round when it is null.
/// </summary>
public sealed record SiteSearchFailed(string EventId, DateTimeOffset At, string SiteId, int Round, int Attempt, FailureReason Reason, DateTimeOffset? RetryAt)
    : OrchestrationEvent(EventId, At);

/// <summary>A relay could not carry out a command (find or retrieve).</summary>
public sealed record RelayCommandFailed(string EventId, DateTimeOffset At, string SiteId, string CommandId, FailureReason Reason, string SafeMessage)
    : OrchestrationEvent(EventId, At);

/// <summary>A relay is alive; <paramref name="PacsReachable"/> is its latest C-ECHO result.</summary>
public sealed record SiteHeartbeat(string EventId, DateTimeOffset At, string SiteId, bool PacsReachable) : OrchestrationEvent(EventId, At);

/// <summary>Progress of a retrieval; <paramref name="Staged"/> names the list of instances newly staged (null from older relays or when the relay reports none).</summary>
public sealed record RetrievalProgressed(string EventId, DateTimeOffset At, string SiteId, string CommandId, string StudyInstanceUid, int InstancesDone, int InstancesTotal, long BytesDone, StagedInstanceListReference? Staged = null)
    : OrchestrationEvent(EventId, At);

/// <summary>A retrieval finished; every instance is in staging, as the <paramref name="Manifest"/> list names them. The AE titles are the relay's report (null from older relays).</summary>
public sealed record RetrievalFinished(string EventId, DateTimeOffset At, string SiteId, string CommandId, string StudyInstanceUid, StagedInstanceListReference Manifest, string? SourceAeTitle = null, string? DestinationAeTitle = null)
    : OrchestrationEvent(EventId, At);

/// <summary>Progress of a delivery to the meeting's destination (instances at the destination so far).</summary>
public sealed record DeliveryProgressed(string EventId, DateTimeOffset At, string SiteId, string CommandId, string StudyInstanceUid, int InstancesDone, int InstancesTotal)
    : OrchestrationEvent(EventId, At);

/// <summary>A delivery finished: every instance is at the destination; <paramref name="SourceAeTitle"/> is the AE title the relay sent from.</summary>
public sealed record DeliveryFinished(string EventId, DateTimeOffset At, string SiteId, string CommandId, string StudyInstanceUid, int InstancesTotal, int InstancesSent, int InstancesAlreadyPresent, long BytesSent, string? SourceAeTitle, string? DestinationAeTitle)
    : OrchestrationEvent(EventId, At);

/// <summary>A delivery stopped: <paramref name="ReasonCode"/> (stable), <paramref name="Transient"/> when a later attempt may succeed.</summary>
public sealed record DeliveryStopped(string EventId, DateTimeOffset At, string SiteId, string CommandId, string StudyInstanceUid, string ReasonCode, bool Transient, string SafeMessage)
    : OrchestrationEvent(EventId, At);

// ---- Activity results of the cloud side ----

/// <summary>
/// The StoreStudy activity stored the staged instances in the DICOM service: <paramref name="InstancesSent"/> were
/// sent by STOW-RS in this run (the others were there already), and QIDO-RS found <paramref name="InstancesVerified"/>
/// of the manifest's <paramref name="InstancesStored"/> afterwards.
/// </summary>
public sealed record StoreStudyCompleted(string EventId, DateTimeOffset At, string CommandId, string StudyInstanceUid, int InstancesStored, int InstancesSent = 0, int InstancesVerified = 0)
    : OrchestrationEvent(EventId, At);

/// <summary>
/// The StoreStudy activity failed for good: <paramref name="Code"/> says why (<see cref="StoreFailureCodes"/>; null is
/// <see cref="StoreFailureCodes.StoreFailed"/>).
/// </summary>
public sealed record StoreStudyFailed(string EventId, DateTimeOffset At, string CommandId, string StudyInstanceUid, string SafeMessage, string? Code = null)
    : OrchestrationEvent(EventId, At);

/// <summary>Why a study's store failed, as recorded on the study and in its audit record.</summary>
public static class StoreFailureCodes
{
    /// <summary>Anything else: refused by the DICOM service, staged data not matching the relay's manifest, retries exhausted.</summary>
    public const string StoreFailed = "store_failed";

    /// <summary>A staged instance is of another patient than the registration's (strong traits or INS, compared as candidates are).</summary>
    public const string IdentityMismatch = "identity_mismatch";

    /// <summary>A staged instance is not one of the selected study's instances listed in the relay's manifest (or is not DICOM).</summary>
    public const string UnexpectedInstance = "unexpected_instance";
}

/// <summary>
/// A DeleteStudy or PurgeStudies activity finished: the studies are gone from the DICOM service and
/// <paramref name="StagingBlobsDeleted"/> staging blobs were deleted (absent counted as removed).
/// </summary>
public sealed record RemovalCompleted(string EventId, DateTimeOffset At, string CommandId, int StudiesRemoved, int StagingBlobsDeleted)
    : OrchestrationEvent(EventId, At);

/// <summary>A DeleteStudy or PurgeStudies activity failed for good (a refusal retrying cannot cure); the code is stable, the message free of patient data.</summary>
public sealed record RemovalFailed(string EventId, DateTimeOffset At, string CommandId, string ReasonCode, string SafeMessage)
    : OrchestrationEvent(EventId, At);

/// <summary>The SMTP relay accepted the expertise e-mail (now, or in an earlier run of the activity that confirmed it).</summary>
public sealed record ExpertiseEmailSent(string EventId, DateTimeOffset At, string CommandId, string MessageId)
    : OrchestrationEvent(EventId, At);

/// <summary>The expertise e-mail failed for good (relay refusal), or an earlier attempt never confirmed delivery and it was not resent.</summary>
public sealed record ExpertiseEmailFailed(string EventId, DateTimeOffset At, string CommandId, string MessageId, string ReasonCode, string SafeMessage)
    : OrchestrationEvent(EventId, At);

/// <summary>
/// The PublishManifest activity stored the manifest's revision (<paramref name="DocumentUid"/>, listing
/// <paramref name="InstancesListed"/> instances) and removed older ones; a null document means withdrawn (nothing to list).
/// </summary>
public sealed record ManifestPublished(string EventId, DateTimeOffset At, string CommandId, int Revision, string? StudyInstanceUid, string? SeriesInstanceUid, string? DocumentUid, int InstancesListed)
    : OrchestrationEvent(EventId, At);

/// <summary>The PublishManifest activity failed for good; the code is stable, the message free of patient data.</summary>
public sealed record ManifestPublishFailed(string EventId, DateTimeOffset At, string CommandId, string ReasonCode, string SafeMessage)
    : OrchestrationEvent(EventId, At);

/// <summary>A study's transfer (sub-orchestration) ended: available, failed, or cancelled.</summary>
public sealed record StudyTransferSettled(string EventId, DateTimeOffset At, StudyTransferOutcome Outcome)
    : OrchestrationEvent(EventId, At);

// ---- External events (raised by the API on behalf of a user) ----

/// <summary>The clinician ticked studies and validated.</summary>
public sealed record SelectionMade(string EventId, DateTimeOffset At, IReadOnlyList<string> StudyInstanceUids, string SelectedBy) : OrchestrationEvent(EventId, At);

/// <summary>The clinician pressed "Actualiser": search every site again for new studies.</summary>
public sealed record RefreshRequested(string EventId, DateTimeOffset At, string RequestedBy) : OrchestrationEvent(EventId, At);

/// <summary>Delete a loaded study (the bin icon).</summary>
public sealed record StudyDeleteRequested(string EventId, DateTimeOffset At, string StudyInstanceUid, string RequestedBy) : OrchestrationEvent(EventId, At);

/// <summary>The "Demande d'expertise" box was ticked after registration.</summary>
public sealed record ExpertiseRequested(string EventId, DateTimeOffset At, string RequestedBy) : OrchestrationEvent(EventId, At);

// ---- Durable timers ----

/// <summary>A durable timer set by a <see cref="StartDurableTimer"/> command fired. The event id is the timer id.</summary>
public sealed record DurableTimerFired(string EventId, DateTimeOffset At, string TimerId) : OrchestrationEvent(EventId, At);
