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
