using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Relay;

/// <summary>
/// The cloud side of the relay channel over the Messaging library's Storage-queue channel: commands to
/// <c>relay-commands-&lt;site&gt;</c>, events from every site's own <c>relay-events-&lt;site&gt;</c>, each received message
/// labelled with the site of the queue it came from. Receipts map back to the channel's own message so completing or
/// quarantining hands the exact lease back.
/// </summary>
/// <param name="channel">The Storage-queue channel.</param>
/// <param name="siteIds">The sites whose events queues are read.</param>
/// <param name="eventsQueueFor">A site's events queue (<see cref="ResourceNames.EventsQueueFor"/>; tests give each run queues of its own).</param>
public sealed class StorageQueueRelayChannel(MessageChannel channel, IReadOnlyList<string> siteIds, Func<string, string> eventsQueueFor) : IRelayMessageChannel, IRelayEventQuarantine
{
    private readonly ConcurrentDictionary<string, ChannelMessage> _inFlight = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        return channel.SendAsync(ResourceNames.CommandQueueFor(command.SiteId), command, cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ReceivedMessage> ReceiveEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One listener per site's queue feeding one small buffer: a message waits here leased, so the buffer stays small
        // next to the queue's visibility timeout.
        var merged = Channel.CreateBounded<ReceivedMessage>(new BoundedChannelOptions(capacity: 16) { SingleWriter = false, SingleReader = false });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listeners = siteIds.Select(site => ListenToSiteAsync(site, merged.Writer, stop.Token)).ToArray();
        var allDone = Task.WhenAll(listeners).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        try
        {
            await foreach (var message in merged.Reader.ReadAllAsync(cancellationToken))
            {
                yield return message;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await allDone;
        }
    }

    private async Task ListenToSiteAsync(string siteId, ChannelWriter<ReceivedMessage> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in channel.ListenAsync(eventsQueueFor(siteId), cancellationToken))
            {
                var receipt = Guid.NewGuid().ToString("N");
                _inFlight[receipt] = message;
                await writer.WriteAsync(new ReceivedMessage(message.Envelope, receipt, message.DeliveryCount, siteId), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
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
