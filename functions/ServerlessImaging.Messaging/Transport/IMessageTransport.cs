namespace ServerlessImaging.Messaging.Transport;

/// <summary>
/// The queue operations the channel needs, and nothing more: at-least-once delivery with a
/// visibility timeout and a delivery count. Azure Storage queues implement it today
/// (<see cref="StorageQueueTransport"/>); a Service Bus adapter would implement the same port.
/// </summary>
public interface IMessageTransport
{
    /// <summary>Largest message body, in bytes before any transport encoding, that <see cref="SendAsync"/> accepts.</summary>
    int MaxMessageBytes { get; }

    /// <summary>Creates the queue if it does not exist (local stacks; in Azure Bicep has created it).</summary>
    Task EnsureQueueAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Enqueues one message; <paramref name="visibilityDelay"/> hides it for a while first.</summary>
    Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? visibilityDelay, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="maxMessages"/> messages, hiding each from other receivers for <paramref name="visibilityTimeout"/>.</summary>
    Task<IReadOnlyList<TransportMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>Deletes a handled message. A receipt that lost its lease (the message was redelivered) is reported as <see cref="LeaseLostException"/>.</summary>
    Task CompleteAsync(TransportMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Changes how long the message stays invisible: zero makes it visible again now (abandon),
    /// a longer span extends the lease of a long-running handler. Returns the new receipt.
    /// </summary>
    Task<TransportMessage> SetVisibilityAsync(TransportMessage message, TimeSpan visibleAfter, CancellationToken cancellationToken);
}

/// <summary>A message as the transport delivered it.</summary>
/// <param name="Queue">Queue it came from.</param>
/// <param name="Id">Transport id (not the envelope's message id).</param>
/// <param name="Receipt">Lease token needed to complete or update it; changes on each update.</param>
/// <param name="DeliveryCount">How many times it has been handed out, this time included.</param>
/// <param name="Body">Raw body bytes.</param>
/// <param name="EnqueuedAt">When it was first enqueued, if the transport knows.</param>
public sealed record TransportMessage(string Queue, string Id, string Receipt, int DeliveryCount, ReadOnlyMemory<byte> Body, DateTimeOffset? EnqueuedAt);

/// <summary>The receipt of a message is no longer valid: its visibility timeout expired and another receiver may hold it.</summary>
public sealed class LeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LeaseLostException()
        : base("The message lease was lost (visibility timeout expired or message already deleted).")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public LeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
