using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Relay;

/// <summary>
/// The cloud side of the relay channel over the Messaging library's Storage-queue channel: commands to
/// <c>relay-commands-&lt;site&gt;</c>, events from <c>relay-events</c>. Receipts map back to the channel's own
/// message so completing or quarantining hands the exact lease back. The events queue name can be changed so
/// parallel test runs sharing one Azurite never take each other's events.
/// </summary>
public sealed class StorageQueueRelayChannel(MessageChannel channel, string eventsQueue = ResourceNames.RelayEventsQueue) : IRelayMessageChannel, IRelayEventQuarantine
{
    private readonly ConcurrentDictionary<string, ChannelMessage> _inFlight = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        return channel.SendAsync(ResourceNames.CommandQueueFor(command.SiteId), command, cancellationToken);
    }

    /// <inheritdoc />
    public Task SendEventAsync(MessageEnvelope relayEvent, CancellationToken cancellationToken) => channel.SendAsync(eventsQueue, relayEvent, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ReceivedMessage> ReceiveEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in channel.ListenAsync(eventsQueue, cancellationToken))
        {
            var receipt = Guid.NewGuid().ToString("N");
            _inFlight[receipt] = message;
            yield return new ReceivedMessage(message.Envelope, receipt, message.DeliveryCount);
        }
    }

    /// <inheritdoc />
    public async Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_inFlight.TryRemove(message.Receipt, out var channelMessage))
        {
            await channel.CompleteAsync(channelMessage, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task QuarantineAsync(ReceivedMessage message, string safeDetail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_inFlight.TryRemove(message.Receipt, out var channelMessage))
        {
            await channel.QuarantineAsync(channelMessage, safeDetail, cancellationToken);
        }
    }

    /// <summary>Gives a message back for redelivery later (a transient failure while applying it).</summary>
    public async Task AbandonAsync(ReceivedMessage message, TimeSpan redeliverAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_inFlight.TryRemove(message.Receipt, out var channelMessage))
        {
            await channel.AbandonAsync(channelMessage, cancellationToken, redeliverAfter);
        }
    }
}
