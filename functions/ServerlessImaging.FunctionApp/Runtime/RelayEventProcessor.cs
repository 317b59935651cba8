using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>What became of a relay message.</summary>
public enum RelayEventOutcome
{
    /// <summary>Applied to its registration (or recognised there as a duplicate or stale answer).</summary>
    Handled,

    /// <summary>Not an event the registration flow consumes (echo result, series list): completed.</summary>
    NotConsumed,

    /// <summary>A heartbeat: recorded as the site's health (read by <c>GET /sites</c>).</summary>
    HeartbeatRecorded,

    /// <summary>No such registration: to be quarantined, never retried.</summary>
    UnknownRegistration,
}

/// <summary>Turns a relay event into an orchestration event (<see cref="RelayEventTranslator"/>) and applies it to its registration.</summary>
/// <remarks>The site health store is the HTTP API's (registered by <c>AddHttpApi</c>); without it heartbeats are only completed.</remarks>
public sealed class RelayEventProcessor(OrchestrationEngine engine, IEnumerable<ISiteHealthStore> siteHealth, TimeProvider time, ILogger<RelayEventProcessor> logger)
{
    /// <summary>Handles one envelope from <c>relay-events</c>. Transient failures throw (the message is redelivered).</summary>
    public async Task<RelayEventOutcome> ProcessAsync(MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var receivedAt = time.GetUtcNow();
        if (envelope.Body is Heartbeat heartbeat)
        {
            // Heartbeats carry no registration; retrying unreachable sites on them needs a site index (not built yet).
            if (siteHealth.LastOrDefault() is not { } store)
            {
                return RelayEventOutcome.NotConsumed;
            }

            await store.RecordAsync(SiteHealth.FromHeartbeat(envelope.SiteId, receivedAt, heartbeat), cancellationToken);
            return RelayEventOutcome.HeartbeatRecorded;
        }

        var @event = RelayEventTranslator.Translate(envelope, receivedAt);
        if (@event is null)
        {
            logger.LogDebug("Relay message {Type} from site {SiteId} not consumed by registrations.", envelope.Type, envelope.SiteId);
            return RelayEventOutcome.NotConsumed;
        }

        var result = await engine.ApplyAsync(envelope.CorrelationId, @event, create: false, cancellationToken);
        if (result is null)
        {
            logger.LogWarning("Relay event {MessageId} ({Type}, site {SiteId}) names no known registration; quarantined.", envelope.MessageId, envelope.Type, envelope.SiteId);
            return RelayEventOutcome.UnknownRegistration;
        }

        return RelayEventOutcome.Handled;
    }
}
