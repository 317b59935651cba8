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
