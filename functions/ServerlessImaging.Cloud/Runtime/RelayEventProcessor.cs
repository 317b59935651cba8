using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>What became of a relay message.</summary>
public enum RelayEventOutcome
{
    /// <summary>Raised to its registration's orchestration (which recognises a duplicate or stale answer).</summary>
    Handled,

    /// <summary>Not an event the registration flow consumes (echo result, series list): completed.</summary>
    NotConsumed,

    /// <summary>
    /// A heartbeat: recorded as the site's health (read by <c>GET /sites</c>); when it says the PACS answers, the
    /// registrations waiting to ask the site again are told at once.
    /// </summary>
    HeartbeatRecorded,

    /// <summary>No such registration: to be quarantined, never retried.</summary>
    UnknownRegistration,

    /// <summary>
    /// A relay's report of a message it quarantined and could not read (<see cref="RelayPoisonReports.IsUnsolicited"/>):
    /// logged and counted, then completed. The message itself is kept in the relay's poison queue; a second copy of the
    /// report in the events poison queue would only double the alarm for one fault.
    /// </summary>
    RelayPoisonReported,

    /// <summary>A command on the events queue (a sender's routing mistake): to be quarantined, never applied.</summary>
    MisroutedCommand,

    /// <summary>
    /// A message on one site's events queue that claims another site (a relay speaking for a site not its own, or a
    /// misconfigured one): to be quarantined, never applied.
    /// </summary>
    ForeignSite,
}

/// <summary>What to do with a relay message once processed.</summary>
public static class RelayEventOutcomes
{
    /// <summary>The quarantine reason of an outcome that quarantines the message, null for one that completes it.</summary>
    public static string? QuarantineReason(RelayEventOutcome outcome) => outcome switch
    {
        RelayEventOutcome.UnknownRegistration => "No registration with this correlation id.",
        RelayEventOutcome.MisroutedCommand => "A command on the events queue.",
        RelayEventOutcome.ForeignSite => "Claims a site other than the one whose events queue it was read from.",
        _ => null,
    };
}

/// <summary>Turns a relay event into an orchestration event (<see cref="RelayEventTranslator"/>) and raises it to its registration's orchestration.</summary>
/// <remarks>The site health store is the HTTP API's (registered by <c>AddHttpApi</c>); without it a heartbeat is not recorded, and still wakes the searches waiting for its site.</remarks>
public sealed class RelayEventProcessor(IRegistrationEventSink registrations, IStagedInstanceListStore instanceLists, ISiteSearchWaitIndex waitingSearches, IEnumerable<ISiteHealthStore> siteHealth, RelayEventMetrics metrics, TimeProvider time, ILogger<RelayEventProcessor> logger)
{
    // Registrations told of one heartbeat; more wait for their retry time.
    internal const int MaxWokenPerHeartbeat = 100;

    // A relay beats every minute (its default): one not heard from for longer was away.
    internal static readonly TimeSpan RelaySilence = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Handles one envelope read from <paramref name="queueSiteId"/>'s events queue (<c>relay-events-&lt;site&gt;</c>).
    /// Transient failures throw (the message is redelivered).
    /// </summary>
    /// <remarks>
    /// Only that site's relay can send to its queue, so the queue names the sender: a message claiming another site is
    /// refused before anything in it is looked at (it could otherwise answer, fail or heartbeat for that site).
    /// </remarks>
    public async Task<RelayEventOutcome> ProcessAsync(string queueSiteId, MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queueSiteId);
        ArgumentNullException.ThrowIfNull(envelope);
        if (!string.Equals(envelope.SiteId, queueSiteId, StringComparison.Ordinal))
        {
            metrics.ForeignSite(queueSiteId, envelope.SiteId, envelope.Type);
            logger.LogWarning(
                "Relay message {MessageId} ({Type}) on site {QueueSiteId}'s events queue claims site {ClaimedSiteId}; quarantined.",
                envelope.MessageId, envelope.Type, queueSiteId, envelope.SiteId);
            return RelayEventOutcome.ForeignSite;
        }

        var receivedAt = time.GetUtcNow();
        if (envelope.Body is Heartbeat heartbeat)
        {
            // Recorded after the searches are woken: a heartbeat redelivered after a failure here still finds the
            // site's previous health.
            var store = siteHealth.LastOrDefault();
            if (heartbeat.PacsEcho == PacsEchoStatus.Ok && await IsRecoveryAsync(store, envelope.SiteId, receivedAt, cancellationToken))
            {
                await WakeWaitingSearchesAsync(envelope, receivedAt, cancellationToken);
            }

            if (store is not null)
            {
                await store.RecordAsync(SiteHealth.FromHeartbeat(envelope.SiteId, receivedAt, heartbeat), cancellationToken);
            }

            return RelayEventOutcome.HeartbeatRecorded;
        }

        if (FailureOf(envelope, receivedAt) is { } failure)
        {
            await RecordFailureAsync(failure, cancellationToken);
        }

        if (envelope.Body is RelayCommand)
        {
            metrics.MisroutedCommand(envelope.SiteId, envelope.Type);
            logger.LogWarning("Relay message {MessageId} ({Type}, site {SiteId}) is a command on the events queue; quarantined.", envelope.MessageId, envelope.Type, envelope.SiteId);
            return RelayEventOutcome.MisroutedCommand;
        }

        if (RelayPoisonReports.IsUnsolicited(envelope))
        {
            // The relay could not read the message it quarantined, so no registration can be told; operators can.
            var failed = (CommandFailed)envelope.Body;
            metrics.PoisonReported(envelope.SiteId, failed.Reason.ToString());
            logger.LogWarning(
                "Relay of site {SiteId} quarantined message {QuarantinedMessageId} ({FailedType}) in its poison queue: {Reason}: {SafeMessage}",
                envelope.SiteId, envelope.CausationId ?? "(unreadable)", failed.FailedCommandType, failed.Reason, failed.SafeMessage);
            return RelayEventOutcome.RelayPoisonReported;
        }

        // A manifest or a batch of staged instances is kept in the app's own blob and travels by reference: the
        // orchestration's history, state and activity inputs stay the same size whatever the study's.
        StagedInstanceListReference? instances = null;
        if (RelayEventTranslator.InstancesOf(envelope.Body) is { } listed)
        {
            if (envelope.CorrelationId is not { Length: > 0 } registrationId)
            {
                logger.LogWarning("Relay event {MessageId} ({Type}, site {SiteId}) names no registration; quarantined.", envelope.MessageId, envelope.Type, envelope.SiteId);
                return RelayEventOutcome.UnknownRegistration;
            }

            instances = await instanceLists.SaveAsync(registrationId, listed.StudyInstanceUid, listed.Instances, cancellationToken);
        }

        var @event = RelayEventTranslator.Translate(envelope, receivedAt, instances);
        if (@event is null)
        {
            logger.LogDebug("Relay message {Type} from site {SiteId} not consumed by registrations.", envelope.Type, envelope.SiteId);
            return RelayEventOutcome.NotConsumed;
        }

        if (!await registrations.RaiseAsync(envelope.CorrelationId, @event, cancellationToken))
        {
            logger.LogWarning("Relay event {MessageId} ({Type}, site {SiteId}) names no known registration; quarantined.", envelope.MessageId, envelope.Type, envelope.SiteId);
            return RelayEventOutcome.UnknownRegistration;
        }

        return RelayEventOutcome.Handled;
    }

    /// <summary>
    /// Whether a heartbeat saying the PACS answers follows one that said otherwise, a silence of the relay, or nothing:
    /// only then may a search waiting for the site ask again before its retry time. While the site stays healthy, a
    /// search whose queries still fail waits for its retry time, so a PACS that answers C-ECHO but not C-FIND is not
    /// asked a burst every minute. Without a health store, every such heartbeat counts.
    /// </summary>
    private static async Task<bool> IsRecoveryAsync(ISiteHealthStore? store, string siteId, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return true;
        }

        var previous = await store.GetAsync(siteId, cancellationToken);
        return previous is null || previous.PacsEcho != PacsEchoStatus.Ok || receivedAt - previous.LastSeenAt > RelaySilence;
    }

    /// <summary>
    /// A heartbeat carries no registration: the read model names the registrations whose search waits to ask the site
    /// again, and each is told the site's PACS answers (the heartbeat's message id is the event's, so a redelivered
    /// heartbeat is a duplicate). A registration that stopped waiting meanwhile reads nothing of it.
    /// </summary>
    private async Task WakeWaitingSearchesAsync(MessageEnvelope envelope, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var waiting = await waitingSearches.RegistrationsWaitingForAsync(envelope.SiteId, MaxWokenPerHeartbeat, cancellationToken);
        foreach (var registrationId in waiting)
        {
            await registrations.RaiseAsync(registrationId, new SiteHeartbeat("heartbeat/" + envelope.MessageId, receivedAt, envelope.SiteId, PacsReachable: true), cancellationToken);
        }

        if (waiting.Count > 0)
        {
            logger.LogInformation("Heartbeat of site {SiteId}: its PACS answers; {Count} registration(s) waiting to ask it again told.", envelope.SiteId, waiting.Count);
        }
    }

    /// <summary>
    /// The site's "last failure" (<c>GET /sites</c>) that a relay report stands for: a failed command (the relay's
    /// poison reports included) or a stopped delivery. A cancellation is what someone asked for, not a failure.
    /// </summary>
    internal static SiteFailure? FailureOf(MessageEnvelope envelope, DateTimeOffset receivedAt) => envelope.Body switch
    {
        CommandFailed { Reason: not FailureReason.Cancelled } f => new SiteFailure(envelope.SiteId, receivedAt, f.FailedCommandType, f.Reason.ToString(), f.SafeMessage),
        DeliveryFailed d => new SiteFailure(envelope.SiteId, receivedAt, "DeliverStudy", d.Reason.ToString(), d.SafeMessage),
        _ => null,
    };

    // Best effort: an operator's view must not hold up (or redeliver) the registration the failure belongs to.
    private async Task RecordFailureAsync(SiteFailure failure, CancellationToken cancellationToken)
    {
        if (siteHealth.LastOrDefault() is not { } store)
        {
            return;
        }

        try
        {
            await store.RecordFailureAsync(failure, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not record the last failure of site {SiteId} ({Command}, {Reason}).", failure.SiteId, failure.Command, failure.Reason);
        }
    }
}
