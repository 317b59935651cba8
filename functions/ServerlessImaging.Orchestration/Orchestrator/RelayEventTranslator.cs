using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// Turns a relay's message into the orchestration event it means. The receive time, not the relay's
/// <see cref="MessageEnvelope.SentAt"/>, is used as the event time: a relay's clock is not trusted.
/// </summary>
public static class RelayEventTranslator
{
    /// <summary>
    /// The instance list a message carries, to be kept (<see cref="Ports.IStagedInstanceListStore"/>) and passed to
    /// <see cref="Translate"/> by reference: a retrieval's manifest (even empty), or the instances staged since its last
    /// progress (null when none).
    /// </summary>
    public static (string StudyInstanceUid, IReadOnlyList<StagedInstance> Instances)? InstancesOf(RelayMessage body) => body switch
    {
        RetrievalCompleted completed => (completed.StudyInstanceUid, completed.Manifest ?? []),
        RetrievalProgress { Staged.Count: > 0 } progress => (progress.StudyInstanceUid, progress.Staged),
        _ => null,
    };

    /// <summary>
    /// The event, or null for messages the registration flow does not consume (echo results, series lists, commands).
    /// <paramref name="instances"/> is the reference of the list <see cref="InstancesOf"/> found, once kept; a retrieval's
    /// completion without one is an error.
    /// </summary>
    public static OrchestrationEvent? Translate(MessageEnvelope envelope, DateTimeOffset receivedAt, StagedInstanceListReference? instances = null)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var commandId = envelope.CausationId ?? string.Empty;
        return envelope.Body switch
        {
            StudiesFound found => new StudiesFoundAtSite(envelope.MessageId, receivedAt, envelope.SiteId, commandId, found.Studies),
            RetrievalProgress progress => new RetrievalProgressed(envelope.MessageId, receivedAt, envelope.SiteId, commandId, progress.StudyInstanceUid, progress.InstancesDone, progress.InstancesTotal, progress.BytesDone, instances),
            RetrievalCompleted completed => new RetrievalFinished(
                envelope.MessageId, receivedAt, envelope.SiteId, commandId, completed.StudyInstanceUid,
                instances ?? throw new ArgumentNullException(nameof(instances), "A retrieval's completion needs its kept manifest."), completed.SourceAeTitle, completed.DestinationAeTitle),
            DeliveryProgress progress => new DeliveryProgressed(envelope.MessageId, receivedAt, envelope.SiteId, commandId, progress.StudyInstanceUid, progress.InstancesDone, progress.InstancesTotal),
            DeliveryCompleted completed => new DeliveryFinished(
                envelope.MessageId, receivedAt, envelope.SiteId, commandId, completed.StudyInstanceUid, completed.InstancesTotal, completed.InstancesSent, completed.InstancesAlreadyPresent, completed.BytesSent, completed.SourceAeTitle, completed.Destination?.AeTitle),
            DeliveryFailed failed => new DeliveryStopped(envelope.MessageId, receivedAt, envelope.SiteId, commandId, failed.StudyInstanceUid, DeliveryReasonCode(failed.Reason), failed.Transient, failed.SafeMessage),
            CommandFailed failed => new RelayCommandFailed(envelope.MessageId, receivedAt, envelope.SiteId, commandId, failed.Reason, failed.SafeMessage),
            Heartbeat heartbeat => new SiteHeartbeat(envelope.MessageId, receivedAt, envelope.SiteId, heartbeat.PacsEcho == PacsEchoStatus.Ok),
            _ => null,
        };
    }

    /// <summary>
    /// The orchestration instance an event of <paramref name="registrationId"/> is for: a retrieval's answers (progress,
    /// completion, failure) go to the study's transfer their command id names, if it is one of this registration's;
    /// everything else to the registration itself.
    /// </summary>
    public static string InstanceFor(string registrationId, OrchestrationEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var commandId = @event switch
        {
            RetrievalProgressed e => e.CommandId,
            RetrievalFinished e => e.CommandId,
            RelayCommandFailed e => e.CommandId,
            _ => null,
        };
        return CommandIds.TransferOf(commandId) is { } transferId && transferId.StartsWith(registrationId + ":transfer:", StringComparison.Ordinal)
            ? transferId
            : registrationId;
    }

    // Stable snake_case codes, as the study failures use.
    private static string DeliveryReasonCode(DeliveryFailureReason reason) => reason switch
    {
        DeliveryFailureReason.DestinationUnreachable => "destination_unreachable",
        DeliveryFailureReason.DestinationRefused => "destination_refused",
        DeliveryFailureReason.DestinationNotAllowed => "destination_not_allowed",
        DeliveryFailureReason.SourceUnreachable => "source_unreachable",
        DeliveryFailureReason.SourceNotAllowed => "source_not_allowed",
        DeliveryFailureReason.SourceNotFound => "source_not_found",
        DeliveryFailureReason.CredentialRejected => "credential_rejected",
        DeliveryFailureReason.Timeout => "timeout",
        DeliveryFailureReason.Cancelled => "cancelled",
        DeliveryFailureReason.InvalidCommand => "invalid_command",
        DeliveryFailureReason.Internal => "relay_error",
        _ => "unknown",
    };
}
