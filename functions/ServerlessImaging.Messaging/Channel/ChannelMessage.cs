using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.Messaging.Channel;

/// <summary>
/// A decoded message held under a lease. Complete it when handled, abandon it to have it redelivered,
/// renew it while a long handler runs. <see cref="DeliveryCount"/> above 1 means an earlier attempt did not
/// complete (crash, lease expiry): the consumer must be idempotent or deduplicate on <c>Envelope.MessageId</c>.
/// </summary>
public sealed class ChannelMessage
{
    private TransportMessage _transport;

    internal ChannelMessage(MessageEnvelope envelope, TransportMessage transport, MessageBodyReference? bodyReference)
    {
        Envelope = envelope;
        _transport = transport;
        BodyReference = bodyReference;
    }

    /// <summary>The decoded envelope.</summary>
    public MessageEnvelope Envelope { get; }

    /// <summary>Queue it was received from.</summary>
    public string Queue => _transport.Queue;

    /// <summary>Times the transport has handed it out, this one included.</summary>
    public int DeliveryCount => _transport.DeliveryCount;

    /// <summary>Where the body was offloaded, when it was too large for the queue.</summary>
    public MessageBodyReference? BodyReference { get; }

    /// <summary>Current transport view (receipt changes on every renewal).</summary>
    public TransportMessage Transport
    {
        get => Volatile.Read(ref _transport);
        internal set => Volatile.Write(ref _transport, value);
    }
}
