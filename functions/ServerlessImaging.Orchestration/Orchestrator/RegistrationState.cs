using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Filters;
using ServerlessImaging.Orchestration.Identity;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>Instance status of a registration orchestration (Durable Functions' runtime status, specialised).</summary>
public enum RegistrationStatus
{
    /// <summary>Created, not started.</summary>
    Pending,

    /// <summary>Searching the sites (fan-out not yet fanned in).</summary>
    Running,

    /// <summary>Candidate list ready; waiting for the clinician's selection (external event).</summary>
    WaitingForSelection,

    /// <summary>At least one selected study is being retrieved or stored.</summary>
    Retrieving,

    /// <summary>Every selected study is available, failed or deleted.</summary>
    Completed,

    /// <summary>No site could be searched and nothing was found.</summary>
    Failed,

    /// <summary>The working copy was purged; the instance accepts no more events.</summary>
    Purged,
}

/// <summary>Where the search of one site stands in the current round.</summary>
public enum SiteSearchStatus
{
    /// <summary>A FindStudies attempt is in flight.</summary>
    Searching,

    /// <summary>The site answered this round.</summary>
    Searched,

    /// <summary>The site did not answer a burst of attempts; a retry timer is set.</summary>
    Unreachable,

    /// <summary>Permanent failure this round (PACS rejected the query, or unreachable until the meeting).</summary>
    Failed,
}

/// <summary>Per-study availability, as the RCP software shows it.</summary>
public enum StudyStatus
{
    /// <summary>Selected, retrieval not yet started, or waiting for an automatic retry (<see cref="SelectedStudy.NextAttemptAt"/> set).</summary>
    Pending,

    /// <summary>The relay is retrieving it (n of m instances).</summary>
    Retrieving,

    /// <summary>
    /// In staging; being stored into the DICOM service. Kept in the API, but a study's transfer does not report it: it
    /// would cost a commit per study on the task hub, for a step that mostly overlaps the retrieval (pipelined stores).
    /// </summary>
    Storing,

    /// <summary>In the DICOM service, viewable.</summary>
    Available,

    /// <summary>Could not be made available (see the failure).</summary>
    Failed,

    /// <summary>Deleted at the clinician's request.</summary>
    Deleted,

    /// <summary>Removed by the retention purge.</summary>
    Purged,
}

/// <summary>Whether the expertise e-mail was asked for and sent.</summary>
public enum ExpertiseStatus
{
    /// <summary>Not asked for.</summary>
    NotRequested,

    /// <summary>Asked for; sent as soon as one study is available.</summary>
    Pending,

    /// <summary>The SMTP relay accepted it (exactly once: idempotent activity and sent ledger).</summary>
    Sent,

    /// <summary>Handed to the e-mail activity; the relay's answer is not known yet.</summary>
    Sending,

    /// <summary>The relay refused it for good, or delivery could not be confirmed (not resent; see the audit trail).</summary>
    Failed,
}

/// <summary>A DeleteStudy or PurgeStudies command whose outcome is still to be recorded.</summary>
/// <param name="CommandId">The activity's command id (its result events name it).</param>
/// <param name="IsPurge">True for the retention purge, false for a deletion on request.</param>
/// <param name="StudyInstanceUids">Studies the command removes from the DICOM service.</param>
/// <param name="SiteId">Site the deleted study came from, when known.</param>
/// <param name="RequestedBy">Who asked (null for the retention purge).</param>
public sealed record PendingRemoval(string CommandId, bool IsPurge, ImmutableArray<string> StudyInstanceUids, string? SiteId, string? RequestedBy);

/// <summary>
/// The registration's imaging manifest in the DICOM service: the last revision published (its studies, document and
/// instance count) and the one being published, if any. One publication at a time, so revisions land in order.
/// </summary>
/// <param name="Revision">The latest revision asked for (1, 2, …).</param>
/// <param name="PublishedStudies">Studies the published revision lists (empty: none published, or withdrawn).</param>
/// <param name="StudyInstanceUid">The manifest's own study (derived from the registration), once published.</param>
/// <param name="SeriesInstanceUid">The manifest's series, once published.</param>
/// <param name="DocumentUid">SOP Instance UID of the published document (null: none, or withdrawn).</param>
/// <param name="InstancesListed">Instances the published document lists.</param>
/// <param name="PublishedAt">When the published revision was reported stored.</param>
/// <param name="InFlightCommandId">The publication under way, if any.</param>
/// <param name="InFlightStudies">Studies the publication under way lists.</param>
public sealed record ManifestPublication(
    int Revision,
    ImmutableArray<string> PublishedStudies,
    string? StudyInstanceUid,
    string? SeriesInstanceUid,
    string? DocumentUid,
    int InstancesListed,
    DateTimeOffset? PublishedAt,
    string? InFlightCommandId,
    ImmutableArray<string> InFlightStudies);

/// <summary>Where the delivery of a study to the meeting's destination stands.</summary>
public enum DeliveryStatus
{
    /// <summary>The destination site's relay is sending it (n of m instances).</summary>
    Delivering,

    /// <summary>The last attempt failed for a transient cause; a durable timer starts the next (<see cref="StudyDelivery.NextAttemptAt"/>).</summary>
    WaitingForRetry,

    /// <summary>Every instance is at the destination.</summary>
    Delivered,

    /// <summary>Failed for good (see the failure): a person must act.</summary>
    Failed,

    /// <summary>Stopped because the study was deleted or purged (what already reached the destination stays there).</summary>
    Cancelled,
}

/// <summary>The delivery of one study (a selected study, or the imaging manifest's own study) to the meeting's destination.</summary>
/// <param name="StudyInstanceUid">The study delivered.</param>
/// <param name="IsManifest">True for the imaging manifest's study.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Attempt">Attempt number (every attempt has its own command id).</param>
/// <param name="CurrentCommandId">The attempt in flight, if any.</param>
/// <param name="ExpectedSopInstanceUids">Instances to deliver (empty: every instance the DICOM service holds for the study).</param>
/// <param name="ExpectedInstanceCount">Instances expected when no list is given.</param>
/// <param name="InstancesDone">Instances at the destination so far.</param>
/// <param name="InstancesTotal">Instances to deliver (0 until known).</param>
/// <param name="Failure">Why the last attempt failed, if it did.</param>
public sealed record StudyDelivery(
    string StudyInstanceUid,
    bool IsManifest,
    DeliveryStatus Status,
    int Attempt,
    string? CurrentCommandId,
    ImmutableArray<string> ExpectedSopInstanceUids,
    int? ExpectedInstanceCount,
    int InstancesDone,
    int InstancesTotal,
    StudyFailure? Failure)
{
    /// <summary>Round of automatic retries: 1 for the first attempt, +1 per retry after a transient failure.</summary>
    public int Round { get; init; } = 1;

    /// <summary>The durable timer that starts the next attempt, while waiting for it.</summary>
    public string? RetryTimerId { get; init; }

    /// <summary>When the next attempt starts, while waiting for it.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>True while an attempt is in flight or due.</summary>
    public bool IsActive => Status is DeliveryStatus.Delivering or DeliveryStatus.WaitingForRetry;
}

/// <summary>Near-misses of one site, by kind: never offered, counted so the 3C can spot data-entry errors.</summary>
public sealed record NearMissCounts(int DifferentBirthDate, int DifferentSex, int DifferentFirstName, int DifferentFamilyName, int InsMismatch)
{
    /// <summary>All zero.</summary>
    public static readonly NearMissCounts Zero = new(0, 0, 0, 0, 0);

    /// <summary>Total of every kind.</summary>
    public int Total => DifferentBirthDate + DifferentSex + DifferentFirstName + DifferentFamilyName + InsMismatch;

    /// <summary>One more of <paramref name="kind"/>.</summary>
    public NearMissCounts Add(NearMissKind kind) => kind switch
    {
        NearMissKind.DifferentBirthDate => this with { DifferentBirthDate = DifferentBirthDate + 1 },
        NearMissKind.DifferentSex => this with { DifferentSex = DifferentSex + 1 },
        NearMissKind.DifferentFirstName => this with { DifferentFirstName = DifferentFirstName + 1 },
        NearMissKind.DifferentFamilyName => this with { DifferentFamilyName = DifferentFamilyName + 1 },
        _ => this with { InsMismatch = InsMismatch + 1 },
    };
}

/// <summary>The search of one site.</summary>
/// <param name="SiteId">The site.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Round">Search round (1, then +1 per refresh).</param>
/// <param name="Attempt">Attempt number within the round (every attempt has its own command id).</param>
/// <param name="AttemptsInBurst">Attempts since the site was last (re)tried after being unreachable.</param>
/// <param name="LastFailure">Why the latest attempt failed, if it did.</param>
/// <param name="AnsweredAt">When the site answered this round.</param>
/// <param name="StudiesReturned">Studies the PACS returned.</param>
/// <param name="Matched">Studies whose patient matched.</param>
/// <param name="FilteredOut">Matched studies the imaging filter excluded.</param>
/// <param name="NearMisses">Near-misses by kind.</param>
public sealed record SiteSearch(
    string SiteId,
    SiteSearchStatus Status,
    int Round,
    int Attempt,
    int AttemptsInBurst,
    FailureReason? LastFailure,
    DateTimeOffset? AnsweredAt,
    int StudiesReturned,
    int Matched,
    int FilteredOut,
    NearMissCounts NearMisses)
{
    /// <summary>When an unreachable site is asked again (its search waits until then; a new execution resumes the wait).</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
}

/// <summary>Why a selected study failed: a stable code and a message free of patient data.</summary>
public sealed record StudyFailure(string Code, string SafeMessage)
{
    /// <summary>At most this many characters of a reported message are kept.</summary>
    public const int MaxMessageLength = 200;

    /// <summary><paramref name="message"/> as recorded: "No detail." when empty, cut to <see cref="MaxMessageLength"/>.</summary>
    public static string SafeText(string? message) =>
        string.IsNullOrWhiteSpace(message) ? "No detail." : message.Length <= MaxMessageLength ? message : message[..MaxMessageLength];
}

/// <summary>A study the clinician (or the auto-select policy) selected.</summary>
/// <param name="StudyInstanceUid">The study.</param>
/// <param name="Status">Availability.</param>
/// <param name="SiteId">Site it is (or was last) retrieved from.</param>
/// <param name="Attempt">Retrieval attempt number (one per site tried or reselection).</param>
/// <param name="CurrentCommandId">Command id of the retrieval in flight, if any.</param>
/// <param name="InstancesDone">Instances retrieved so far.</param>
/// <param name="InstancesTotal">Instances the relay expects (0 until known).</param>
/// <param name="BytesDone">Bytes retrieved so far.</param>
/// <param name="InstancesStored">Instances stored in the DICOM service.</param>
/// <param name="Failure">Why it failed, when it did.</param>
public sealed record SelectedStudy(
    string StudyInstanceUid,
    StudyStatus Status,
    string? SiteId,
    int Attempt,
    string? CurrentCommandId,
    int InstancesDone,
    int InstancesTotal,
    long BytesDone,
    int InstancesStored,
    StudyFailure? Failure)
{
    /// <summary>Round over the sites holding the study: 1 from its (re)selection, +1 per automatic retry (0 in states saved before rounds).</summary>
    public int RetrievalRound { get; init; }

    /// <summary>When the next round starts, while the study waits for it; <see cref="Failure"/> is why the last one failed.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>True for statuses no event moves on by itself.</summary>
    public bool IsSettled => Status is StudyStatus.Available or StudyStatus.Failed or StudyStatus.Deleted or StudyStatus.Purged;
}

/// <summary>
/// The whole persisted state of one registration orchestration. Collections are arrays sorted by id
/// (ordinal) so the JSON form, and so the ETag-guarded document, is identical for identical histories.
/// </summary>
public sealed record RegistrationState
{
    /// <summary>Registration id = orchestration instance id.</summary>
    public required string RegistrationId { get; init; }

    /// <summary>Incremented by every non-duplicate event; the adapter persists it alongside its ETag.</summary>
    public long Version { get; init; }

    /// <summary>Instance status, derived after every event.</summary>
    public RegistrationStatus Status { get; init; }

    /// <summary>What to do, set by <see cref="RegistrationStarted"/>.</summary>
    public RegistrationPlan? Plan { get; init; }

    /// <summary>Search round: 1 at start, +1 per refresh.</summary>
    public int Round { get; init; }

    /// <summary>True once every site of the current round answered or was given up on for now.</summary>
    public bool FanInDone { get; init; }

    /// <summary>Per-site searches, sorted by site id.</summary>
    public ImmutableArray<SiteSearch> Sites { get; init; } = [];

    /// <summary>Candidate list, deduplicated by StudyInstanceUID, sorted by it.</summary>
    public ImmutableArray<CandidateStudy> Candidates { get; init; } = [];

    /// <summary>Selected studies, sorted by StudyInstanceUID.</summary>
    public ImmutableArray<SelectedStudy> Selected { get; init; } = [];

    /// <summary>Expertise e-mail status.</summary>
    public ExpertiseStatus Expertise { get; init; }

    /// <summary>When the purge fell due (and was sent); its completion is an audit record.</summary>
    public DateTimeOffset? PurgedAt { get; init; }

    /// <summary>Removals (deletions, the purge) sent and not yet reported done or failed, sorted by command id.</summary>
    public ImmutableArray<PendingRemoval> PendingRemovals { get; init; } = [];

    /// <summary>Deliveries to the meeting's destination (plan's <see cref="RegistrationPlan.Delivery"/>), sorted by study UID.</summary>
    public ImmutableArray<StudyDelivery> Deliveries { get; init; } = [];

    /// <summary>The imaging manifest's publication (null until a study first becomes available).</summary>
    public ManifestPublication? Manifest { get; init; }

    /// <summary>Sequence number of the latest audit record this registration wrote (0: none yet).</summary>
    public long AuditSequence { get; init; }

    /// <summary>Recorded-at time of the latest audit record; the next one is never earlier (clocks of several instances may differ).</summary>
    public DateTimeOffset? AuditRecordedAt { get; init; }

    /// <summary>Ids of the latest processed events, oldest first, bounded by <see cref="OrchestrationSettings.ProcessedEventMemory"/>.</summary>
    public ImmutableArray<string> ProcessedEventIds { get; init; } = [];

    /// <summary>A new, not yet started instance.</summary>
    public static RegistrationState Create(string registrationId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        return new RegistrationState { RegistrationId = registrationId };
    }

    /// <summary>The search of <paramref name="siteId"/>, or null.</summary>
    public SiteSearch? SiteOf(string siteId) => Sites.FirstOrDefault(s => string.Equals(s.SiteId, siteId, StringComparison.Ordinal));

    /// <summary>The delivery of a study, or null.</summary>
    public StudyDelivery? DeliveryOf(string studyInstanceUid) =>
        Deliveries.FirstOrDefault(d => string.Equals(d.StudyInstanceUid, studyInstanceUid, StringComparison.Ordinal));

    /// <summary>The selected study, or null.</summary>
    public SelectedStudy? SelectedOf(string studyInstanceUid) =>
        Selected.FirstOrDefault(s => string.Equals(s.StudyInstanceUid, studyInstanceUid, StringComparison.Ordinal));
}
