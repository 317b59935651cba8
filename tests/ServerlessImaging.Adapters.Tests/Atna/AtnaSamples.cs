using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>
/// Audit records of every kind the product writes (synthetic values, no patient data): every orchestration action through
/// the real <see cref="OrchestrationAuditMapper"/>, with every optional field and with none; and the HTTP API's records,
/// built in the shapes <c>HttpAuditMiddleware</c> and <c>RefusalAuditAggregator</c> write (Cloud is not referenced here).
/// </summary>
internal static class AtnaSamples
{
    public const string PatientKey = "pk1-0123456789abcdef0123456789abcdef";

    private static readonly DateTimeOffset At = new(2026, 12, 5, 1, 30, 17, 123, TimeSpan.Zero);

    /// <summary>Every orchestration action, once with every field set and once with the fewest, outcomes cycled.</summary>
    public static IEnumerable<(string Name, AuditRecord Record)> OrchestrationRecords(string registrationId)
    {
        var outcomes = Enum.GetValues<AuditOutcome>();
        var n = 0;
        foreach (var action in Enum.GetValues<AuditAction>())
        {
            var full = new WriteAuditActivity($"{registrationId}/cmd-{action}-full", registrationId, At.AddSeconds(n), action, outcomes[n % outcomes.Length], PatientKey,
                "user-sub-0042", "chu-nord", "1.2.826.0.1.3680043.8.498.1", "clinique-sud: 2 études, 3 séries\nretry 1/3")
            {
                Sequence = n + 1,
                RecordedAt = At.AddSeconds(n).AddMilliseconds(250),
                SourceAeTitle = "CHUNORD",
                DestinationAeTitle = "SI_RELAY_NORD",
                StudyInstanceUids = ["1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2"],
                MessageId = "<expertise-1@serverless-imaging.example>",
                Recipients = ["radiologue@chu-nord.example"],
            };
            yield return ($"orchestration-{action}-full", OrchestrationAuditMapper.Map(full, "serverless-imaging-orchestration"));

            var minimal = new WriteAuditActivity($"{registrationId}/cmd-{action}-min", registrationId, At.AddSeconds(n), action, outcomes[(n + 1) % outcomes.Length], PatientKey,
                null, null, null, string.Empty);
            yield return ($"orchestration-{action}-minimal", OrchestrationAuditMapper.Map(minimal, "serverless-imaging-orchestration"));
            n++;
        }
    }

    /// <summary>The API's records: a read, a create with an idempotency key, a failure, refusals (401, 403), a refusal summary, an auditor's read.</summary>
    public static IEnumerable<(string Name, AuditRecord Record)> HttpRecords(string registrationId)
    {
        yield return ("http-read", Http(registrationId, AuditEventIds.PatientRecord, "R", "RegistrationStatusRead", 200, "user-sub-0042", "registrar coordinator", "10.1.2.3",
            [AuditParticipantObject.Patient(PatientKey), AuditParticipantObject.Registration(registrationId), HttpRequest("GET /registrations/{registrationId}", 200)]));
        yield return ("http-create", Http(registrationId, AuditEventIds.PatientRecord, "C", "RegistrationCreated", 202, "user-sub-0042", "registrar", "::1",
            [AuditParticipantObject.Patient(PatientKey), AuditParticipantObject.Registration(registrationId), new AuditParticipantObject(2, 4, "idempotency-key", "req-7f3a"), HttpRequest("POST /registrations", 202)]));
        yield return ("http-study-delete", Http(registrationId, AuditEventIds.DicomStudyDeleted, "D", "StudyDeletionRequested", 409, "user-sub-0042", "coordinator", "10.1.2.3",
            [AuditParticipantObject.Registration(registrationId), AuditParticipantObject.Study("1.2.826.0.1.3680043.8.498.1"), HttpRequest("DELETE /registrations/{registrationId}/studies/{studyInstanceUid}", 409)]));
        yield return ("http-failure", Http(registrationId, AuditEventIds.PatientRecord, "R", "RegistrationStatusRead", 500, "user-sub-0042", "registrar", "10.1.2.3",
            [AuditParticipantObject.Registration(registrationId), HttpRequest("GET /registrations/{registrationId}", 500)]));
        yield return ("http-unauthenticated", Http(null, AuditEventIds.SecurityAlert, "E", "Unauthenticated:RegistrationStatusRead", 401, null, string.Empty, "203.0.113.9",
            [HttpRequest("GET /registrations/{registrationId}", 401), new AuditParticipantObject(2, 13, "refusal-count", "1", "refused requests this record stands for")]));
        yield return ("http-forbidden", Http(registrationId, AuditEventIds.SecurityAlert, "E", "Forbidden:AuditTrailRead", 403, "user-sub-0099", "registrar", "10.1.2.4",
            [AuditParticipantObject.Registration(registrationId), HttpRequest("GET /audit", 403), new AuditParticipantObject(2, 13, "refusal-count", "1", "refused requests this record stands for")]));

        var summary = Http(null, AuditEventIds.SecurityAlert, "E", "Unauthenticated:RegistrationStatusRead", 401, null, string.Empty, "203.0.113.9",
            [new AuditParticipantObject(2, 13, "http-request", "*", "status 401"), new AuditParticipantObject(2, 13, "refusal-count", "57", "refused requests this record stands for")]);
        yield return ("http-refusal-summary", summary with { ActiveParticipants = [new AuditParticipant("*", "user", true), .. summary.ActiveParticipants.Where(p => p.Kind != "user")] });
        yield return ("http-audit-read", Http(null, AuditEventIds.AuditLogUsed, "R", "AuditTrailRead", 200, "auditor-sub-0001", "auditor", "10.1.2.5",
            [HttpRequest("GET /audit", 200)]));
    }

    public static IEnumerable<(string Name, AuditRecord Record)> All(string registrationId) =>
        OrchestrationRecords(registrationId).Concat(HttpRecords(registrationId));

    private static AuditParticipantObject HttpRequest(string route, int status) => new(2, 13, "http-request", route, $"status {status}");

    private static AuditRecord Http(string? registrationId, AuditCode eventId, string actionCode, string eventType, int status, string? userId, string roles, string remoteIp, IReadOnlyList<AuditParticipantObject> objects) => new()
    {
        Id = AuditRecordIds.From("http", Guid.NewGuid().ToString("n")),
        PartitionKey = AuditRecord.PartitionKeyFor(At),
        EventId = eventId,
        EventType = eventType,
        ActionCode = actionCode,
        DateTime = At,
        RecordedAt = At.AddMilliseconds(40),
        Outcome = status switch
        {
            < 400 => AuditOutcomeCodes.Success,
            < 500 => AuditOutcomeCodes.MinorFailure,
            _ => AuditOutcomeCodes.SeriousFailure,
        },
        OutcomeDescription = $"HTTP {status}",
        AuditSource = "serverless-imaging-api",
        ActiveParticipants =
        [
            new AuditParticipant(userId ?? "anonymous", "user", true, roles, remoteIp),
            new AuditParticipant("serverless-imaging-api", "application", false, "destination"),
        ],
        ParticipantObjects = objects,
        PatientKey = objects.FirstOrDefault(o => o.RoleCode == 1)?.Id,
        UserId = userId,
        RegistrationId = registrationId,
    };
}
