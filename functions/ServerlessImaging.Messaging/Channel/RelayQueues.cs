using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Messaging.Channel;

/// <summary>
/// The cloud/relay queue topology over a <see cref="MessageChannel"/>: commands go to
/// <c>relay-commands-&lt;siteId&gt;</c> (the envelope's site), events to the relay's own site's events queue.
/// </summary>
/// <param name="channel">The channel.</param>
/// <param name="eventsQueue">Events queue: <c>relay-events-&lt;site&gt;</c> (<see cref="ResourceNames.EventsQueueFor"/>), or a test's own.</param>
public sealed class RelayQueues(MessageChannel channel, string eventsQueue)
{
    /// <summary>The queue events are sent to and read from.</summary>
    public string EventsQueue { get; } = eventsQueue;

    /// <summary>The underlying channel (complete, abandon, renew, quarantine).</summary>
    public MessageChannel Channel { get; } = channel ?? throw new ArgumentNullException(nameof(channel));

    /// <summary>Sends a command to the relay of <c>command.SiteId</c>.</summary>
    public Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Body is not RelayCommand)
        {
            throw new ArgumentException($"'{command.Type}' is not a command.", nameof(command));
        }

        return Channel.SendAsync(ResourceNames.CommandQueueFor(command.SiteId), command, cancellationToken);
    }

    /// <summary>Sends an event to the cloud.</summary>
    public Task SendEventAsync(MessageEnvelope relayEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relayEvent);
        if (relayEvent.Body is not RelayEvent)
        {
            throw new ArgumentException($"'{relayEvent.Type}' is not an event.", nameof(relayEvent));
        }

        return Channel.SendAsync(EventsQueue, relayEvent, cancellationToken);
    }

    /// <summary>Listens to a site's command queue (the relay).</summary>
    public IAsyncEnumerable<ChannelMessage> ListenCommandsAsync(string siteId, CancellationToken cancellationToken) =>
        Channel.ListenAsync(ResourceNames.CommandQueueFor(siteId), cancellationToken);
}
