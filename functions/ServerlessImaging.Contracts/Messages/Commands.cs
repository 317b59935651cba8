namespace ServerlessImaging.Contracts.Messages;

/// <summary>Asks the relay to C-ECHO its PACS and report.</summary>
public sealed record EchoCommand : RelayCommand;

/// <summary>
/// Study-level C-FIND on the site PACS. The keys are deliberately broad (birth date and sex, names
/// optional) because PACS differ in how they match accents and case; the cloud matches strictly afterwards.
/// </summary>
public sealed record FindStudiesCommand(
    PatientQueryKeys Patient,
    IReadOnlyList<string> Modalities,
    DateOnly? StudyDateFrom,
    DateOnly? StudyDateTo) : RelayCommand;

/// <summary>Patient keys of a study query. Names, when given, are DICOM PN patterns (wildcards allowed).</summary>
public sealed record PatientQueryKeys(
    DateOnly BirthDate,
    string Sex,
    string? FamilyName = null,
    string? GivenName = null)
{
    /// <summary>Redacted: query keys are patient data and must never reach a log.</summary>
    public override string ToString() => "PatientQueryKeys { redacted }";
}

/// <summary>Series-level C-FIND under one study.</summary>
public sealed record ListSeriesCommand(string StudyInstanceUid) : RelayCommand;

/// <summary>
/// Fetch a study (or a subset of its series) from the PACS and upload every instance to staging.
/// The credential is a short-lived, write-only SAS URL scoped to the destination; it is a secret.
/// </summary>
public sealed record RetrieveStudyCommand(
    string StudyInstanceUid,
    IReadOnlyList<string> SeriesInstanceUids,
    StagingDestination Destination,
    StagingCredential Credential) : RelayCommand;

/// <summary>Where retrieved instances go: blob container and a name prefix (one folder per registration and study).</summary>
public sealed record StagingDestination(string Container, string Prefix);

/// <summary>Short-lived write-only credential for the staging destination.</summary>
public sealed record StagingCredential(Uri SasUrl, DateTimeOffset ExpiresAt)
{
    /// <summary>Redacted: the SAS URL is a bearer secret.</summary>
    public override string ToString() => $"StagingCredential {{ ExpiresAt = {ExpiresAt:O}, SasUrl = redacted }}";
}

/// <summary>Stop a command still in progress (identified by its message id).</summary>
public sealed record CancelCommand(string CommandMessageId) : RelayCommand;

/// <summary>
/// Push a study the DICOM service holds into a DICOM node of the relay's site (the meeting site's PACS or reading
/// console): the relay reads it by WADO-RS from <see cref="Source"/> and C-STOREs it into <see cref="Destination"/>.
/// The envelope's message id is the command id and its correlation id the registration. The relay refuses a destination
/// outside its own allow-list and a source outside its allowed DICOM services, whatever the cloud asks.
/// </summary>
/// <param name="StudyInstanceUid">The study to deliver.</param>
/// <param name="Destination">Where to C-STORE it.</param>
/// <param name="ExpectedSopInstanceUids">
/// The instances to deliver (the registration's view of the study); empty: every instance the source lists for the
/// study, which must then number <paramref name="ExpectedInstanceCount"/> when that is given.
/// </param>
/// <param name="ExpectedInstanceCount">Instances the cloud expects when it sends no list (null: not checked).</param>
/// <param name="Source">The DICOM service to read from.</param>
/// <param name="Credential">Read credential for the source; a secret.</param>
public sealed record DeliverStudyCommand(
    string StudyInstanceUid,
    DeliveryDestination Destination,
    IReadOnlyList<string> ExpectedSopInstanceUids,
    int? ExpectedInstanceCount,
    DicomServiceSource Source,
    DicomServiceCredential Credential) : RelayCommand;

/// <summary>A DICOM node reached through the relay: its AE title, host and port.</summary>
public sealed record DeliveryDestination(string AeTitle, string Host, int Port);

/// <summary>The DICOMweb service holding the study: the WADO-RS/QIDO-RS base URL (e.g. <c>https://…/v2/</c>).</summary>
public sealed record DicomServiceSource(Uri DicomWebBaseUrl);

/// <summary>
/// Short-lived read credential for the source: sent as <c>Authorization: Bearer</c>. Null token: no authentication
/// (the local stand-in only). The cloud issues it read-only and scoped to the study (see the relay's README).
/// </summary>
public sealed record DicomServiceCredential(string? BearerToken, DateTimeOffset ExpiresAt)
{
    /// <summary>Redacted: the token is a bearer secret.</summary>
    public override string ToString() => $"DicomServiceCredential {{ ExpiresAt = {ExpiresAt:O}, BearerToken = {(BearerToken is null ? "none" : "redacted")} }}";
}
