using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.FunctionApp.RelayEvents;

/// <summary>
/// A relay event the Functions host's queue trigger dequeued, applied as the standalone host's listener applies one:
/// decoded (a large body is fetched from its blob), handed to <see cref="RelayEventProcessor"/>, and
/// <list type="bullet">
/// <item>completed (returns; the host deletes the message) when handled, then its offloaded body is released;</item>
/// <item>copied unchanged to the site's <c>relay-events-&lt;site&gt;-poison</c> and completed when the outcome quarantines
/// it (<see cref="RelayEventOutcomes.QuarantineReason"/>) or it cannot be read: retrying would not help. The copy is the
/// raw queue message, like the host's own poison copies, so the reason is in the log only;</item>
/// <item>left to the host on a transient failure (the exception propagates): redelivered after the queue's visibility
/// timeout, moved to the same poison queue by the host after <c>maxDequeueCount</c> deliveries.</item>
/// </list>
/// </summary>
public sealed class DeliveredRelayEvents(
    MessageChannel channel,
    StorageQueueTransport transport,
    RelayEventProcessor processor,
    DurableClientHolder durableClientHolder,
    ILogger<DeliveredRelayEvents> logger)
{
    /// <summary>Applies one message delivered from <paramref name="siteId"/>'s events queue (the queue message's bytes, Base64 already decoded by the host).</summary>
    public async Task HandleAsync(string siteId, byte[] message, DurableTaskClient durableClient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var poisonQueue = ResourceNames.EventsPoisonQueueFor(siteId);
        durableClientHolder.Provide(durableClient);

        MessageEnvelope envelope;
        MessageBodyReference? offloadedBody;
        try
        {
            (envelope, offloadedBody) = await channel.DecodeDeliveredAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is MessageContractException or MessageBodyMissingException)
        {
            // Exception messages here name fields and types only, never values.
            await QuarantineAsync(poisonQueue, message, null, $"Unreadable ({ex.GetType().Name}: {ex.Message})", cancellationToken);
            return;
        }

        var outcome = await processor.ProcessAsync(siteId, envelope, cancellationToken);
        if (RelayEventOutcomes.QuarantineReason(outcome) is { } reason)
        {
            // The offloaded body, if any, stays: the poison copy is its pointer (the container's lifecycle rule removes it).
            await QuarantineAsync(poisonQueue, message, envelope, reason, cancellationToken);
            return;
        }

        await channel.ReleaseOffloadedBodyAsync(offloadedBody, cancellationToken);
    }

    private async Task QuarantineAsync(string poisonQueue, byte[] message, MessageEnvelope? envelope, string reason, CancellationToken cancellationToken)
    {
        if (channel.Options.CreateQueuesIfMissing)
        {
            await transport.EnsureQueueAsync(poisonQueue, cancellationToken);
        }

        await transport.SendAsync(poisonQueue, message, null, cancellationToken);
        logger.LogWarning(
            "Relay message {MessageId} ({Type}, site {SiteId}) copied to {PoisonQueue}: {Reason}",
            envelope?.MessageId ?? "(unreadable)", envelope?.Type, envelope?.SiteId, poisonQueue, reason);
    }
}
