namespace ServerlessImaging.Contracts.Messages;

/// <summary>Answer to <see cref="EchoCommand"/>.</summary>
public sealed record EchoResult(PacsEchoStatus Status, double? RoundTripMilliseconds) : RelayEvent;

/// <summary>Answer to <see cref="FindStudiesCommand"/>: every study the PACS returned, with the demographics it holds.</summary>
public sealed record StudiesFound(IReadOnlyList<FoundStudy> Studies) : RelayEvent;

/// <summary>One study as a PACS describes it.</summary>
public sealed record FoundStudy(
    PacsPatient Patient,
    string StudyInstanceUid,
    DateOnly? StudyDate,
    string? StudyDescription,
    IReadOnlyList<string> Modalities,
    int? NumberOfSeries,
    int? NumberOfInstances);

/// <summary>
/// Demographics as the PACS holds them: names are raw DICOM PN values (<c>FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX</c>),
/// sex is the DICOM code (M, F, O or empty).
/// </summary>
public sealed record PacsPatient(
    string? PatientName,
    string? PatientBirthName,
    string? PatientId,
    string? IssuerOfPatientId,
    DateOnly? BirthDate,
    string? Sex,
    IReadOnlyList<OtherPatientId> OtherPatientIds)
{
    /// <summary>Redacted: patient data must never reach a log.</summary>
    public override string ToString() => "PacsPatient { redacted }";
}

/// <summary>An entry of Other Patient IDs Sequence; for the French INS the issuer is its OID.</summary>
public sealed record OtherPatientId(string Id, string? Issuer, string? TypeOfId)
{
    /// <summary>Redacted: identifiers are patient data.</summary>
    public override string ToString() => "OtherPatientId { redacted }";
}

/// <summary>Answer to <see cref="ListSeriesCommand"/>.</summary>
public sealed record SeriesListed(string StudyInstanceUid, IReadOnlyList<FoundSeries> Series) : RelayEvent;

/// <summary>One series of a study.</summary>
public sealed record FoundSeries(
    string SeriesInstanceUid,
    string? Modality,
    int? SeriesNumber,
    string? SeriesDescription,
    int? NumberOfInstances);

/// <summary>
/// Progress of a <see cref="RetrieveStudyCommand"/>; sent now and then, may arrive out of order. <see cref="Staged"/>
/// lists the instances staged since the previous progress event of the same run, so the cloud side can store them
/// while the retrieval goes on (optional: older relays omit it, and the <see cref="RetrievalCompleted"/> manifest
/// always lists the whole study).
/// </summary>
public sealed record RetrievalProgress(string StudyInstanceUid, int InstancesDone, int InstancesTotal, long BytesDone, IReadOnlyList<StagedInstance>? Staged = null) : RelayEvent;

/// <summary>
/// A <see cref="RetrieveStudyCommand"/> finished: every instance is in staging. The AE titles say, for the audit
/// trail, which PACS sent the instances and which of the relay's AEs received them (optional: older relays omit them).
/// </summary>
public sealed record RetrievalCompleted(string StudyInstanceUid, IReadOnlyList<StagedInstance> Manifest, string? SourceAeTitle = null, string? DestinationAeTitle = null) : RelayEvent;

/// <summary>One staged instance: its blob name under the destination prefix, size and SHA-256 (lower-case hex).</summary>
public sealed record StagedInstance(
    string SeriesInstanceUid,
    string SopInstanceUid,
    string BlobName,
    long SizeBytes,
    string Sha256);

/// <summary>A command could not be carried out. <see cref="SafeMessage"/> never contains patient data.</summary>
public sealed record CommandFailed(string FailedCommandType, FailureReason Reason, string SafeMessage) : RelayEvent;

/// <summary>Why a command failed, as a closed set the orchestrator can act on.</summary>
public enum FailureReason
{
    /// <summary>Not one of the values below (a newer relay); treated as permanent.</summary>
    Unknown = 0,

    /// <summary>No association with the PACS (network, refused, AE not accepted).</summary>
    PacsUnreachable,

    /// <summary>The PACS answered with a failure status.</summary>
    PacsRejected,

    /// <summary>The PACS did not answer in time.</summary>
    Timeout,

    /// <summary>The study (or series) is no longer in the PACS.</summary>
    StudyNotFound,

    /// <summary>Uploading to staging failed.</summary>
    StagingFailed,

    /// <summary>The staging credential expired before the upload finished.</summary>
    CredentialExpired,

    /// <summary>The command was cancelled.</summary>
    Cancelled,

    /// <summary>The command itself was malformed or unsupported by this relay.</summary>
    InvalidCommand,

    /// <summary>An unexpected error inside the relay.</summary>
    Internal,
}

/// <summary>Periodic sign of life of a relay.</summary>
public sealed record Heartbeat(string RelayVersion, DateTimeOffset LastSeenAt, PacsEchoStatus PacsEcho, DateTimeOffset? PacsEchoCheckedAt) : RelayEvent;

/// <summary>Result of the latest C-ECHO to the site PACS.</summary>
public enum PacsEchoStatus
{
    /// <summary>Not checked yet.</summary>
    Unknown = 0,

    /// <summary>The PACS answered the C-ECHO with success.</summary>
    Ok,

    /// <summary>No association or a failure status.</summary>
    Failed,
}

/// <summary>
/// Progress of a <see cref="DeliverStudyCommand"/>; sent now and then, may arrive out of order. Done counts both the
/// instances sent by this run and those already at the destination (an earlier attempt's journal or the destination's
/// own C-FIND).
/// </summary>
public sealed record DeliveryProgress(string StudyInstanceUid, int InstancesDone, int InstancesTotal, long BytesSent) : RelayEvent;

/// <summary>
/// A <see cref="DeliverStudyCommand"/> finished: every expected instance is at the destination. For the audit trail
/// (PS3.15 "DICOM Instances Transferred"): the source (the DICOM service's base URL and the AE title the relay called
/// from) and the destination.
/// </summary>
public sealed record DeliveryCompleted(
    string StudyInstanceUid,
    int InstancesTotal,
    int InstancesSent,
    int InstancesAlreadyPresent,
    long BytesSent,
    Uri SourceDicomWebBaseUrl,
    string SourceAeTitle,
    DeliveryDestination Destination) : RelayEvent;

/// <summary>
/// A <see cref="DeliverStudyCommand"/> stopped. <see cref="Transient"/>: the same delivery may succeed later (the cloud
/// retries on a durable timer, with a fresh credential); otherwise a person must act. The relay keeps what it sent in
/// its journal, so a retry sends only what is missing. <see cref="SafeMessage"/> never contains patient data.
/// </summary>
public sealed record DeliveryFailed(
    string StudyInstanceUid,
    DeliveryFailureReason Reason,
    bool Transient,
    string SafeMessage,
    int InstancesDone,
    int InstancesTotal) : RelayEvent;

/// <summary>Why a delivery failed.</summary>
public enum DeliveryFailureReason
{
    /// <summary>Not one of the values below (a newer relay); treated as permanent.</summary>
    Unknown = 0,

    /// <summary>No association with the destination (network, connection refused, transient rejection, abort): transient.</summary>
    DestinationUnreachable,

    /// <summary>The destination refused: association rejected permanently, SOP class or syntax not accepted, failure status.</summary>
    DestinationRefused,

    /// <summary>The destination is not in the relay's allow-list: permanent (the relay's operator decides, not the cloud).</summary>
    DestinationNotAllowed,

    /// <summary>The DICOM service could not be reached or failed (network, 5xx, throttled, timeout): transient.</summary>
    SourceUnreachable,

    /// <summary>The DICOM service is not in the relay's allowed sources: permanent.</summary>
    SourceNotAllowed,

    /// <summary>The study, or an expected instance, is not in the DICOM service: permanent.</summary>
    SourceNotFound,

    /// <summary>The credential expired or was refused (401/403): transient for the cloud, which retries with a new one.</summary>
    CredentialRejected,

    /// <summary>The destination did not answer in time: transient.</summary>
    Timeout,

    /// <summary>The command was cancelled.</summary>
    Cancelled,

    /// <summary>The command was malformed or addressed to another site: permanent.</summary>
    InvalidCommand,

    /// <summary>An unexpected error inside the relay: permanent.</summary>
    Internal,
}
