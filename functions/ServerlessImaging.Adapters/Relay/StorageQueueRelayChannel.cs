using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Relay;

/// <summary>
/// The cloud side of the relay channel over the Messaging library's Storage-queue channel: commands to
/// <c>relay-commands-&lt;site&gt;</c>, events from <c>relay-events</c>. Receipts map back to the channel's own
/// message so completing or quarantining hands the exact lease back.
/// </summary>
public sealed class StorageQueueRelayChannel(RelayQueues queues) : IRelayMessageChannel, IRelayEventQuarantine
{
    private readonly ConcurrentDictionary<string, ChannelMessage> _inFlight = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken) => queues.SendCommandAsync(command, cancellationToken);

    /// <inheritdoc />
    public Task SendEventAsync(MessageEnvelope relayEvent, CancellationToken cancellationToken) => queues.SendEventAsync(relayEvent, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ReceivedMessage> ReceiveEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in queues.ListenEventsAsync(cancellationToken))
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
            await queues.Channel.CompleteAsync(channelMessage, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task QuarantineAsync(ReceivedMessage message, string safeDetail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_inFlight.TryRemove(message.Receipt, out var channelMessage))
        {
            await queues.Channel.QuarantineAsync(channelMessage, safeDetail, cancellationToken);
        }
    }

    /// <summary>Gives a message back for redelivery later (a transient failure while applying it).</summary>
    public async Task AbandonAsync(ReceivedMessage message, TimeSpan redeliverAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_inFlight.TryRemove(message.Receipt, out var channelMessage))
        {
            await queues.Channel.AbandonAsync(channelMessage, cancellationToken, redeliverAfter);
        }
    }
}
