using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Audit;

/// <summary>
/// Turns the orchestrator's <see cref="WriteAuditActivity"/> into a PS3.15-shaped <see cref="AuditRecord"/>.
/// The record id derives from the command id, so a re-run activity writes nothing new.
/// </summary>
public static class OrchestrationAuditMapper
{
    /// <summary>The application as an active participant (the orchestration acts on its own).</summary>
    public const string ApplicationId = "serverless-imaging";

    /// <summary>The DICOM service as an active participant (stores and removals).</summary>
    public const string DicomServiceId = "dicom-service";

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
            // Searches are sent to the site; studies come from it.
            // Searches and deliveries are sent to the site; retrieved studies come from it.
            participants.Add(new AuditParticipant(site, "site", false, eventId == AuditEventIds.Query || IsDelivery(activity.Action) ? "destination" : "source"));
        }

        if (activity.SourceAeTitle is { Length: > 0 } sourceAe)
        {
            participants.Add(new AuditParticipant(sourceAe, "ae", false, "source"));
        }

        if (activity.DestinationAeTitle is { Length: > 0 } destinationAe)
        {
            participants.Add(new AuditParticipant(destinationAe, "ae", false, "destination"));
        }

        if (eventId == AuditEventIds.Import || eventId == AuditEventIds.DicomStudyDeleted || eventId == AuditEventIds.DicomInstancesAccessed)
        {
            participants.Add(new AuditParticipant(DicomServiceId, "application", false, "destination"));
        }
        else if (IsDelivery(activity.Action))
        {
            participants.Add(new AuditParticipant(DicomServiceId, "application", false, "source"));
        }

        foreach (var recipient in activity.Recipients ?? [])
        {
            participants.Add(new AuditParticipant(recipient, "recipient", false, "destination"));
        }

        var objects = new List<AuditParticipantObject>
        {
            AuditParticipantObject.Patient(activity.PatientKey),
            AuditParticipantObject.Registration(activity.RegistrationId),
        };
        var studies = (activity.StudyInstanceUids ?? []).Prepend(activity.StudyInstanceUid).OfType<string>().Where(s => s.Length > 0).Distinct(StringComparer.Ordinal);
        objects.AddRange(studies.Select(AuditParticipantObject.Study));
        if (eventId == AuditEventIds.Query)
        {
            objects.Add(AuditParticipantObject.Query(activity.Detail));
        }

        if (activity.MessageId is { Length: > 0 } messageId)
        {
            objects.Add(new AuditParticipantObject(2, 3, "message-id", messageId));
        }

        // Records written before the field existed carry no commit time: the event time stands in.
        var recordedAt = (activity.RecordedAt ?? activity.At).ToUniversalTime();
        return new AuditRecord
        {
            Id = AuditRecordIds.From("orchestration", activity.CommandId),
            PartitionKey = AuditRecord.PartitionKeyFor(recordedAt),
            EventId = eventId,
            EventType = activity.Action.ToString(),
            ActionCode = actionCode,
            DateTime = activity.At.ToUniversalTime(),
            RecordedAt = recordedAt,
            Sequence = activity.Sequence > 0 ? activity.Sequence : null,
            Stream = activity.Stream,
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

    private static bool IsDelivery(AuditAction action) =>
        action is AuditAction.DeliveryStarted or AuditAction.DeliveryCompleted or AuditAction.DeliveryRetryScheduled or AuditAction.DeliveryFailed;

    /// <summary>The DICOM event id and action code of an orchestration action.</summary>
    public static (AuditCode EventId, string ActionCode) Classify(AuditAction action) => action switch
    {
        AuditAction.RegistrationStarted => (AuditEventIds.PatientRecord, AuditActionCodes.Create),
        AuditAction.SiteSearched or AuditAction.SiteUnreachable or AuditAction.SiteFailed or AuditAction.CandidatesReady or AuditAction.Refreshed
            => (AuditEventIds.Query, AuditActionCodes.Execute),
        AuditAction.SelectionMade or AuditAction.SelectionRejected => (AuditEventIds.PatientRecord, AuditActionCodes.Update),
        AuditAction.RetrievalStarted => (AuditEventIds.BeginTransferringDicomInstances, AuditActionCodes.Execute),
        AuditAction.RetrievalCompleted or AuditAction.StudyFailed or AuditAction.RetrievalRetryScheduled => (AuditEventIds.DicomInstancesTransferred, AuditActionCodes.Create),
        AuditAction.StudyStored or AuditAction.StudyStoreFailed => (AuditEventIds.Import, AuditActionCodes.Create),
        AuditAction.StudyDeletionStarted or AuditAction.StudyDeleted or AuditAction.StudyDeletionFailed
            or AuditAction.PurgeStarted or AuditAction.Purged or AuditAction.PurgeFailed => (AuditEventIds.DicomStudyDeleted, AuditActionCodes.Delete),
        AuditAction.ExpertiseSent or AuditAction.ExpertiseRejected or AuditAction.ExpertiseFailed => (AuditEventIds.Export, AuditActionCodes.Read),
        AuditAction.ManifestPublished or AuditAction.ManifestPublishFailed => (AuditEventIds.DicomInstancesAccessed, AuditActionCodes.Create),
        AuditAction.ManifestWithdrawn => (AuditEventIds.DicomInstancesAccessed, AuditActionCodes.Delete),
        AuditAction.DeliveryStarted => (AuditEventIds.BeginTransferringDicomInstances, AuditActionCodes.Execute),
        AuditAction.DeliveryCompleted or AuditAction.DeliveryRetryScheduled or AuditAction.DeliveryFailed => (AuditEventIds.DicomInstancesTransferred, AuditActionCodes.Create),
        _ => (AuditEventIds.ApplicationActivity, AuditActionCodes.Execute),
    };
}
