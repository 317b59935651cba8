using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Commands;

/// <summary>Sends the relay's events to its site's <c>relay-events-&lt;site&gt;</c>, each with causation = the command it answers.</summary>
public sealed class EventPublisher(RelayQueues queues, RelayOptions options, TimeProvider time)
{
    /// <summary>An event answering <paramref name="command"/>. <paramref name="idSuffix"/> makes the id deterministic where a resend must be recognisable.</summary>
    public Task PublishAsync(MessageEnvelope command, RelayEvent body, string idSuffix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var envelope = new MessageEnvelope($"{command.MessageId}/{idSuffix}", command.CorrelationId, command.MessageId, options.SiteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body);
        return queues.SendEventAsync(envelope, cancellationToken);
    }

    /// <summary>An event answering a command known only by its ids (a quarantined command whose body could not be used).</summary>
    public Task PublishAnswerAsync(string commandMessageId, string correlationId, RelayEvent body, string idSuffix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(commandMessageId);
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        var envelope = new MessageEnvelope($"{commandMessageId}/{idSuffix}", correlationId, commandMessageId, options.SiteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body);
        return queues.SendEventAsync(envelope, cancellationToken);
    }

    /// <summary>An event that answers no parseable command (heartbeats, poison reports).</summary>
    public Task PublishUnsolicitedAsync(string correlationId, string? causationId, RelayEvent body, CancellationToken cancellationToken)
    {
        var envelope = new MessageEnvelope($"{options.SiteId}/{correlationId}/{Guid.NewGuid():N}", correlationId, causationId, options.SiteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body);
        return queues.SendEventAsync(envelope, cancellationToken);
    }
}
