using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Audit;

/// <summary>
/// Turns the orchestrator's <see cref="WriteAuditActivity"/> into a PS3.15-shaped <see cref="AuditRecord"/>.
/// The record id derives from the command id, so a re-dispatched outbox command writes nothing new.
/// </summary>
public static class OrchestrationAuditMapper
{
    /// <summary>The application as an active participant (the orchestration acts on its own).</summary>
    public const string ApplicationId = "serverless-imaging";

    /// <summary>Maps one activity.</summary>
    public static AuditRecord Map(WriteAuditActivity activity, string auditSource)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var (eventId, actionCode) = Classify(activity.Action);
        var participants = new List<AuditParticipant>
        {
            new(ApplicationId, "application", activity.Actor is null, "application"),
        };
        if (activity.Actor is { Length: > 0 } actor)
        {
            participants.Insert(0, new AuditParticipant(actor, "user", true));
        }

        if (activity.SiteId is { Length: > 0 } site)
        {
            participants.Add(new AuditParticipant(site, "site", false, IsOutbound(activity.Action) ? "destination" : "source"));
        }

        var objects = new List<AuditParticipantObject>
        {
            AuditParticipantObject.Patient(activity.PatientKey),
            AuditParticipantObject.Registration(activity.RegistrationId),
        };
        if (activity.StudyInstanceUid is { Length: > 0 } study)
        {
            objects.Add(AuditParticipantObject.Study(study));
        }

        if (eventId == AuditEventIds.Query)
        {
            objects.Add(AuditParticipantObject.Query(activity.Detail));
        }

        return new AuditRecord
        {
            Id = AuditRecordIds.From("orchestration", activity.CommandId),
            PartitionKey = AuditRecord.PartitionKeyFor(activity.At),
            EventId = eventId,
            EventType = activity.Action.ToString(),
            ActionCode = actionCode,
            DateTime = activity.At.ToUniversalTime(),
            Outcome = (int)activity.Outcome,
            OutcomeDescription = activity.Detail,
            AuditSource = auditSource,
            ActiveParticipants = participants,
            ParticipantObjects = objects,
            PatientKey = activity.PatientKey,
            UserId = activity.Actor,
            SiteId = activity.SiteId,
            RegistrationId = activity.RegistrationId,
        };
    }

    /// <summary>The DICOM event id and action code of an orchestration action.</summary>
    public static (AuditCode EventId, string ActionCode) Classify(AuditAction action) => action switch
    {
        AuditAction.RegistrationStarted => (AuditEventIds.PatientRecord, AuditActionCodes.Create),
        AuditAction.SiteSearched or AuditAction.SiteUnreachable or AuditAction.SiteFailed or AuditAction.CandidatesReady or AuditAction.Refreshed
            => (AuditEventIds.Query, AuditActionCodes.Execute),
        AuditAction.SelectionMade or AuditAction.SelectionRejected => (AuditEventIds.PatientRecord, AuditActionCodes.Update),
        AuditAction.RetrievalStarted or AuditAction.RetrievalCompleted or AuditAction.StudyFailed or AuditAction.StudyAvailable
            => (AuditEventIds.Import, AuditActionCodes.Create),
        AuditAction.StudyDeleted or AuditAction.Purged => (AuditEventIds.DicomStudyDeleted, AuditActionCodes.Delete),
        AuditAction.ExpertiseSent or AuditAction.ExpertiseRejected => (AuditEventIds.Export, AuditActionCodes.Read),
        _ => (AuditEventIds.ApplicationActivity, AuditActionCodes.Execute),
    };

    // Retrieval pulls from the site (source); searches and deletions are sent to it (destination).
    private static bool IsOutbound(AuditAction action) =>
        action is not (AuditAction.RetrievalStarted or AuditAction.RetrievalCompleted or AuditAction.StudyAvailable or AuditAction.StudyFailed);
}
