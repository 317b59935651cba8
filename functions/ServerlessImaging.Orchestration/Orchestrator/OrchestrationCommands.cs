using System.Collections.Immutable;
using System.Text.Json.Serialization;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// Something the orchestrator asks the outside world to do: an activity to run, a relay command to send,
/// a durable timer to set. <see cref="CommandId"/> is derived from the registration id and the step
/// (see <see cref="CommandIds"/>), so the relays and the activities can deduplicate on it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "command")]
[JsonDerivedType(typeof(FindStudiesActivity), "FindStudies")]
[JsonDerivedType(typeof(RetrieveStudyActivity), "RetrieveStudy")]
[JsonDerivedType(typeof(CancelRelayCommand), "CancelRelayCommand")]
[JsonDerivedType(typeof(DeliverStudyActivity), "DeliverStudy")]
[JsonDerivedType(typeof(StoreStudyActivity), "StoreStudy")]
[JsonDerivedType(typeof(StoreStagedInstancesActivity), "StoreStagedInstances")]
[JsonDerivedType(typeof(DeleteStudyActivity), "DeleteStudy")]
[JsonDerivedType(typeof(PurgeStudiesActivity), "PurgeStudies")]
[JsonDerivedType(typeof(SendExpertiseEmailActivity), "SendExpertiseEmail")]
[JsonDerivedType(typeof(PublishManifestActivity), "PublishManifest")]
[JsonDerivedType(typeof(WriteAuditActivity), "WriteAudit")]
[JsonDerivedType(typeof(StartDurableTimer), "StartDurableTimer")]
[JsonDerivedType(typeof(StartStudyTransfer), "StartStudyTransfer")]
[JsonDerivedType(typeof(CancelStudyTransfer), "CancelStudyTransfer")]
[JsonDerivedType(typeof(RetryStudyTransferNow), "RetryStudyTransferNow")]
public abstract record OrchestrationCommand(string CommandId, string RegistrationId);

/// <summary>Send a FindStudies command to a site's relay (message id = command id).</summary>
public sealed record FindStudiesActivity(string CommandId, string RegistrationId, string SiteId, PatientQueryKeys Query, IReadOnlyList<string> Modalities, DateOnly? StudyDateFrom, DateOnly? StudyDateTo)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Send a RetrieveStudy command to a site's relay. The adapter mints the short-lived write-only staging
/// credential for <paramref name="StagingPrefix"/> when it dispatches (secrets never enter the state).
/// </summary>
public sealed record RetrieveStudyActivity(string CommandId, string RegistrationId, string SiteId, string StudyInstanceUid, string StagingPrefix)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Send a DeliverStudy command to the destination site's relay: read the study from the DICOM service (WADO-RS) and
/// C-STORE it into <paramref name="Destination"/>. The adapter adds the DICOM service's address and a short-lived read
/// credential when it dispatches (secrets never enter the state).
/// </summary>
public sealed record DeliverStudyActivity(string CommandId, string RegistrationId, string SiteId, string StudyInstanceUid, MeetingDestination Destination, ImmutableArray<string> ExpectedSopInstanceUids, int? ExpectedInstanceCount)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>Send a Cancel command for an in-flight relay command.</summary>
public sealed record CancelRelayCommand(string CommandId, string RegistrationId, string SiteId, string CommandIdToCancel)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Store staged instances into the DICOM service (STOW-RS to the study), after checking every one: sizes and SHA-256
/// against the relay's manifest, and its Study and SOP Instance UIDs and patient against <paramref name="StudyInstanceUid"/>,
/// the manifest and <paramref name="ExpectedPatient"/> (the registration's patient, compared as candidates are).
/// The instances are in <paramref name="SiteId"/>'s staging: the site whose relay retrieved them.
/// </summary>
public sealed record StoreStudyActivity(string CommandId, string RegistrationId, string SiteId, string StudyInstanceUid, string StagingPrefix, StagedInstanceListReference Manifest, PatientIdentity ExpectedPatient)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Store instances the relay reported staged while its retrieval goes on (STOW-RS, sizes and SHA-256 checked), so the
/// store overlaps the transfer. Best effort and result-less: whatever it does not store, the study's
/// <see cref="StoreStudyActivity"/> (which checks the DICOM service first) sends after the retrieval completed.
/// </summary>
public sealed record StoreStagedInstancesActivity(string CommandId, string RegistrationId, string SiteId, string StudyInstanceUid, string StagingPrefix, StagedInstanceListReference Instances, PatientIdentity ExpectedPatient)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>Start a selected study's transfer, a sub-orchestration (instance id = command id = <see cref="StudyTransferInput.TransferId"/>).</summary>
public sealed record StartStudyTransfer(string CommandId, string RegistrationId, StudyTransferInput Input)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>Stop a study's transfer (the study was deleted, or the registration purged): it cancels its retrieval and reports how it ended.</summary>
public sealed record CancelStudyTransfer(string CommandId, string RegistrationId, string TransferId)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>The study was selected again while in transfer: a transfer waiting for its next round starts it now.</summary>
public sealed record RetryStudyTransferNow(string CommandId, string RegistrationId, string TransferId)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>Delete one study from the DICOM service and its staging blobs (idempotent: absent is fine).</summary>
public sealed record DeleteStudyActivity(string CommandId, string RegistrationId, string StudyInstanceUid, string StagingPrefix)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>Retention purge: delete the studies from the DICOM service and everything under the staging root.</summary>
public sealed record PurgeStudiesActivity(string CommandId, string RegistrationId, ImmutableArray<string> StudyInstanceUids, string StagingRoot)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Send the expertise e-mail to the meeting's on-call physicians. The adapter renders the user guide's
/// text, loading the patient's name from the registration itself (the command carries no patient data).
/// </summary>
public sealed record SendExpertiseEmailActivity(string CommandId, string RegistrationId, string MeetingId, string MeetingTitle, DateTimeOffset MeetingStartsAt, ImmutableArray<Physician> Recipients, string RequesterName, int AvailableStudies)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// Publish the registration's imaging manifest (a Key Object Selection document listing every instance of
/// <paramref name="StudyInstanceUids"/> as the DICOM service holds them) into the DICOM service, replacing the previous
/// revision; an empty list withdraws it. <paramref name="Patient"/> fills its patient module.
/// </summary>
public sealed record PublishManifestActivity(string CommandId, string RegistrationId, int Revision, ImmutableArray<string> StudyInstanceUids, PatientIdentity Patient, string MeetingTitle)
    : OrchestrationCommand(CommandId, RegistrationId);

/// <summary>
/// What an audit record is about (mapped to DICOM PS3.15 A.5 event ids by <c>OrchestrationAuditMapper</c>).
/// Stored by name (so the order of members does not matter).
/// </summary>
public enum AuditAction
{
    /// <summary>Registration accepted, search fanned out.</summary>
    RegistrationStarted,

    /// <summary>A site answered (counts in the detail).</summary>
    SiteSearched,

    /// <summary>A site did not answer a burst of attempts.</summary>
    SiteUnreachable,

    /// <summary>A site's search failed for this round.</summary>
    SiteFailed,

    /// <summary>Fan-in done: candidate list ready.</summary>
    CandidatesReady,

    /// <summary>Studies selected (by a user or the policy).</summary>
    SelectionMade,

    /// <summary>A selection was refused.</summary>
    SelectionRejected,

    /// <summary>A retrieval was sent to a relay.</summary>
    RetrievalStarted,

    /// <summary>A relay reported a retrieval complete: every instance is in staging (site, AE titles, counts).</summary>
    RetrievalCompleted,

    /// <summary>A retrieval attempt failed (minor: another site is tried) or the study could not be retrieved at all.</summary>
    StudyFailed,

    /// <summary>Every site holding the study failed for a transient cause: a new round over them is set on a durable timer.</summary>
    RetrievalRetryScheduled,

    /// <summary>The StoreStudy activity stored the study into the DICOM service and QIDO-RS found every instance.</summary>
    StudyStored,

    /// <summary>The StoreStudy activity gave up: the study is not (completely) in the DICOM service.</summary>
    StudyStoreFailed,

    /// <summary>A deletion was asked for and decided (who asked); the removal is under way.</summary>
    StudyDeletionStarted,

    /// <summary>The study was removed from the DICOM service and staging (after the DELETE succeeded).</summary>
    StudyDeleted,

    /// <summary>The removal of a deleted study failed for good: it may still be in the DICOM service.</summary>
    StudyDeletionFailed,

    /// <summary>A new search round started.</summary>
    Refreshed,

    /// <summary>The SMTP relay accepted the expertise e-mail.</summary>
    ExpertiseSent,

    /// <summary>The expertise e-mail was refused (no recipients) before anything was sent.</summary>
    ExpertiseRejected,

    /// <summary>Sending the expertise e-mail failed for good, or its delivery could not be confirmed (not resent).</summary>
    ExpertiseFailed,

    /// <summary>The retention purge fell due and was decided; the removal is under way.</summary>
    PurgeStarted,

    /// <summary>The purge activity removed the working copy (DICOM service and staging).</summary>
    Purged,

    /// <summary>The purge activity failed for good: part of the working copy may remain.</summary>
    PurgeFailed,

    /// <summary>A revision of the imaging manifest (Key Object Selection) was stored in the DICOM service, replacing the previous one.</summary>
    ManifestPublished,

    /// <summary>No study is available any more (deleted, purged): the imaging manifest was removed from the DICOM service.</summary>
    ManifestWithdrawn,

    /// <summary>Publishing or withdrawing the imaging manifest failed for good: the DICOM service may hold an outdated one.</summary>
    ManifestPublishFailed,

    /// <summary>A delivery to the meeting's destination was sent to the destination site's relay.</summary>
    DeliveryStarted,

    /// <summary>The relay reported every instance at the destination (source, destination, counts).</summary>
    DeliveryCompleted,

    /// <summary>A delivery attempt failed for a transient cause: another attempt is set on a durable timer.</summary>
    DeliveryRetryScheduled,

    /// <summary>A delivery failed for good, or stopped because the study was deleted or purged.</summary>
    DeliveryFailed,
}

/// <summary>DICOM audit outcome (PS3.15 A.5.3: 0, 4, 8, 12).</summary>
public enum AuditOutcome
{
    /// <summary>0: success.</summary>
    Success = 0,

    /// <summary>4: minor failure, action restarted.</summary>
    MinorFailure = 4,

    /// <summary>8: serious failure, action terminated.</summary>
    SeriousFailure = 8,

    /// <summary>12: major failure, action made unavailable.</summary>
    MajorFailure = 12,
}

/// <summary>
/// Append an audit record. It names the patient by pseudonymous key only; the detail is free of patient data.
/// <paramref name="At"/> is when the event happened (e.g. when the relay's message was received);
/// <see cref="RecordedAt"/> is when the orchestration committed the record with its state, and
/// <see cref="Sequence"/> its place in the registration's trail (1, 2, 3… with no gap).
/// </summary>
public sealed record WriteAuditActivity(string CommandId, string RegistrationId, DateTimeOffset At, AuditAction Action, AuditOutcome Outcome, string PatientKey, string? Actor, string? SiteId, string? StudyInstanceUid, string Detail)
    : OrchestrationCommand(CommandId, RegistrationId)
{
    /// <summary>
    /// The trail the record is numbered in: null for the registration orchestration's own, a sub-orchestration's instance
    /// id (a study's transfer) for that one's. Each trail numbers its records 1, 2, 3… and links each to the one before.
    /// </summary>
    public string? Stream { get; init; }

    /// <summary>Sequence number in the record's trail (<see cref="Stream"/>): strictly increasing, dense (0 only in records written before the field existed).</summary>
    public long Sequence { get; init; }

    /// <summary>When the orchestration committed the record (the app's clock, never earlier than the registration's previous record).</summary>
    public DateTimeOffset? RecordedAt { get; init; }

    /// <summary>AE title the instances came from (the site PACS), when the relay reported it.</summary>
    public string? SourceAeTitle { get; init; }

    /// <summary>AE title that received the instances (the relay's), when the relay reported it.</summary>
    public string? DestinationAeTitle { get; init; }

    /// <summary>Every study a record is about when there are several (a purge).</summary>
    public IReadOnlyList<string>? StudyInstanceUids { get; init; }

    /// <summary>Message-Id of an e-mail.</summary>
    public string? MessageId { get; init; }

    /// <summary>E-mail addresses of the physicians an e-mail went to (never patient data).</summary>
    public IReadOnlyList<string>? Recipients { get; init; }
}

/// <summary>Why a durable timer was set.</summary>
public enum TimerPurpose
{
    /// <summary>Retention purge.</summary>
    Purge,

    /// <summary>Retry a delivery that failed transiently.</summary>
    DeliverRetry,
}

/// <summary>Set a durable timer; when due, deliver <see cref="DurableTimerFired"/> with the command id as timer id.</summary>
public sealed record StartDurableTimer(string CommandId, string RegistrationId, DateTimeOffset FireAt, TimerPurpose Purpose)
    : OrchestrationCommand(CommandId, RegistrationId);
