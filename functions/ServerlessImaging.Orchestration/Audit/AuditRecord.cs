using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessImaging.Orchestration.Audit;

/// <summary>A coded value (DICOM PS3.16 "DCM" scheme unless stated).</summary>
public sealed record AuditCode(string Code, string Display, string CodingScheme = "DCM");

/// <summary>The event ids (PS3.15 A.5.3, CID 400 "Audit Event ID") the trail uses.</summary>
public static class AuditEventIds
{
    /// <summary>110100 Application Activity.</summary>
    public static readonly AuditCode ApplicationActivity = new("110100", "Application Activity");

    /// <summary>110101 Audit Log Used (an auditor read the trail).</summary>
    public static readonly AuditCode AuditLogUsed = new("110101", "Audit Log Used");

    /// <summary>110102 Begin Transferring DICOM Instances (a retrieval was sent to a site's relay).</summary>
    public static readonly AuditCode BeginTransferringDicomInstances = new("110102", "Begin Transferring DICOM Instances");

    /// <summary>110103 DICOM Instances Accessed.</summary>
    public static readonly AuditCode DicomInstancesAccessed = new("110103", "DICOM Instances Accessed");

    /// <summary>110104 DICOM Instances Transferred (a relay moved a study from its PACS into staging).</summary>
    public static readonly AuditCode DicomInstancesTransferred = new("110104", "DICOM Instances Transferred");

    /// <summary>110105 DICOM Study Deleted.</summary>
    public static readonly AuditCode DicomStudyDeleted = new("110105", "DICOM Study Deleted");

    /// <summary>110106 Export (data left the system: e-mail).</summary>
    public static readonly AuditCode Export = new("110106", "Export");

    /// <summary>110107 Import (studies brought into the cloud DICOM service).</summary>
    public static readonly AuditCode Import = new("110107", "Import");

    /// <summary>110110 Patient Record (registration created, read, updated).</summary>
    public static readonly AuditCode PatientRecord = new("110110", "Patient Record");

    /// <summary>110112 Query (a site PACS was searched).</summary>
    public static readonly AuditCode Query = new("110112", "Query");

    /// <summary>110113 Security Alert (a refused request).</summary>
    public static readonly AuditCode SecurityAlert = new("110113", "Security Alert");

    /// <summary>110114 User Authentication.</summary>
    public static readonly AuditCode UserAuthentication = new("110114", "User Authentication");
}

/// <summary>Event action codes (PS3.15 A.5.3 EventActionCode).</summary>
public static class AuditActionCodes
{
    /// <summary>Create.</summary>
    public const string Create = "C";

    /// <summary>Read / view / print.</summary>
    public const string Read = "R";

    /// <summary>Update.</summary>
    public const string Update = "U";

    /// <summary>Delete.</summary>
    public const string Delete = "D";

    /// <summary>Execute (query, search, other activity).</summary>
    public const string Execute = "E";
}

/// <summary>
/// An active participant (PS3.15 A.5.3 ActiveParticipant): a user, the application, or a site / AE title.
/// <see cref="UserId"/> is a subject id, an application name, a site id or an AE title — never patient data.
/// </summary>
/// <param name="UserId">Who or what.</param>
/// <param name="Kind">"user", "application", "site" or "ae".</param>
/// <param name="IsRequestor">True for the party that started the action.</param>
/// <param name="Role">Role code: the app role of a user, "source"/"destination" for systems.</param>
/// <param name="NetworkAccessPoint">IP address or host, when known.</param>
public sealed record AuditParticipant(string UserId, string Kind, bool IsRequestor, string? Role = null, string? NetworkAccessPoint = null);

/// <summary>
/// A participant object (PS3.15 A.5.3 ParticipantObjectIdentification). Patients appear only by
/// pseudonymous key; a query object carries the filter without any name.
/// </summary>
/// <param name="TypeCode">1 person, 2 system object, 3 organisation, 4 other.</param>
/// <param name="RoleCode">1 patient, 3 report, 13 security resource, 24 query…</param>
/// <param name="IdTypeCode">What <paramref name="Id"/> is: "2" patient number (our pseudonym), "110180" Study Instance UID, "110182" node id, "urn" registration…</param>
/// <param name="Id">The identifier.</param>
/// <param name="Detail">Free text without patient data (counts, filter, reason code).</param>
public sealed record AuditParticipantObject(int TypeCode, int RoleCode, string IdTypeCode, string Id, string? Detail = null)
{
    /// <summary>A patient, by pseudonymous key.</summary>
    public static AuditParticipantObject Patient(string patientKey) => new(1, 1, "2", patientKey);

    /// <summary>A study.</summary>
    public static AuditParticipantObject Study(string studyInstanceUid) => new(2, 3, "110180", studyInstanceUid);

    /// <summary>A registration (the RCP file in our system).</summary>
    public static AuditParticipantObject Registration(string registrationId) => new(2, 3, "registration", registrationId);

    /// <summary>A query and its filter (never names).</summary>
    public static AuditParticipantObject Query(string description) => new(2, 24, "query", "query", description);
}

/// <summary>
/// One append-only audit record, shaped after DICOM PS3.15 A.5 (EventIdentification, ActiveParticipant,
/// AuditSourceIdentification, ParticipantObjectIdentification), with a few flat copies
/// (<see cref="PatientKey"/>, <see cref="UserId"/>, <see cref="SiteId"/>, <see cref="RegistrationId"/>)
/// so the auditors' filters are simple indexed equality queries.
/// </summary>
public sealed record AuditRecord
{
    /// <summary>Deterministic id (see <see cref="AuditRecordIds"/>): writing the same fact twice is a no-op.</summary>
    public required string Id { get; init; }

    /// <summary>Partition: the UTC day of <see cref="RecordedAt"/> (yyyy-MM-dd), see <see cref="PartitionKeyFor"/>.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>EventID.</summary>
    public required AuditCode EventId { get; init; }

    /// <summary>Our finer event type ("RegistrationStarted", "HttpRequest"…).</summary>
    public required string EventType { get; init; }

    /// <summary>EventActionCode: C, R, U, D or E.</summary>
    public required string ActionCode { get; init; }

    /// <summary>EventDateTime (UTC): when the event happened (a relay's answer received, a request received).</summary>
    public required DateTimeOffset DateTime { get; init; }

    /// <summary>
    /// When the app recorded the fact (UTC, the app's clock): for orchestration records the commit of the step that
    /// wrote them, for API records the end of the request. The trail is ordered by it, then by <see cref="Sequence"/>.
    /// </summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>
    /// Place in the record's trail (<see cref="Stream"/>: 1, 2, 3… strictly increasing, no gap) for the records a
    /// registration's orchestrations write; null for API request records, which are ordered by <see cref="RecordedAt"/> only.
    /// </summary>
    public long? Sequence { get; init; }

    /// <summary>
    /// Which of the registration's trails <see cref="Sequence"/> numbers the record in: null for the registration
    /// orchestration's own, a sub-orchestration's instance id (a study's transfer) for that one's. Each trail is numbered
    /// and linked on its own, since the orchestrations write concurrently.
    /// </summary>
    public string? Stream { get; init; }

    /// <summary>EventOutcomeIndicator: 0, 4, 8 or 12.</summary>
    public required int Outcome { get; init; }

    /// <summary>EventOutcomeDescription, free of patient data.</summary>
    public string? OutcomeDescription { get; init; }

    /// <summary>AuditSourceID: the application instance that wrote the record.</summary>
    public required string AuditSource { get; init; }

    /// <summary>Active participants.</summary>
    public required IReadOnlyList<AuditParticipant> ActiveParticipants { get; init; }

    /// <summary>Participant objects.</summary>
    public required IReadOnlyList<AuditParticipantObject> ParticipantObjects { get; init; }

    /// <summary>Pseudonymous patient key, when the record is about a patient.</summary>
    public string? PatientKey { get; init; }

    /// <summary>The requesting user (token subject) or null for system actions.</summary>
    public string? UserId { get; init; }

    /// <summary>Site involved, when one is.</summary>
    public string? SiteId { get; init; }

    /// <summary>Registration involved, when one is.</summary>
    public string? RegistrationId { get; init; }

    /// <summary>
    /// For a registration's numbered records: the <see cref="Hash"/> of the record <see cref="Sequence"/> − 1 of the same
    /// <see cref="Stream"/> (null for the first), so each trail of the registration forms a chain. Part of the hashed
    /// content. Null on other records.
    /// </summary>
    public string? PreviousHash { get; init; }

    /// <summary>
    /// SHA-256 (lowercase hex) of the record's canonical form (<see cref="Integrity.AuditCanonicalForm"/>), set by the trail
    /// when it writes the record; null on records written before the trail was sealed ("legacy").
    /// </summary>
    public string? Hash { get; init; }

    /// <summary>The UTC day partition of a timestamp.</summary>
    public static string PartitionKeyFor(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>Deterministic record ids: a digest of the fact's own identity (safe in Cosmos ids: hex only).</summary>
public static class AuditRecordIds
{
    /// <summary>Id of a record derived from <paramref name="parts"/> (e.g. an orchestration command id).</summary>
    public static string From(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        return "au-" + Convert.ToHexStringLower(digest.AsSpan(0, 16));
    }
}

/// <summary>EventOutcomeIndicator values (PS3.15 A.5.3).</summary>
public static class AuditOutcomeCodes
{
    /// <summary>0: success.</summary>
    public const int Success = 0;

    /// <summary>4: minor failure (e.g. a refused request).</summary>
    public const int MinorFailure = 4;

    /// <summary>8: serious failure.</summary>
    public const int SeriousFailure = 8;

    /// <summary>12: major failure.</summary>
    public const int MajorFailure = 12;
}
