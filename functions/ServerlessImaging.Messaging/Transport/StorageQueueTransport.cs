using System.Collections.Concurrent;
using Azure;
using Azure.Core;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace ServerlessImaging.Messaging.Transport;

/// <summary>
/// <see cref="IMessageTransport"/> over Azure Storage queues. Messages are Base64-encoded on the
/// wire (the SDK's <see cref="QueueMessageEncoding.Base64"/>), so any bytes survive and the 64 KiB
/// service limit leaves <see cref="MaxMessageBytes"/> = 48 KiB of raw body.
/// </summary>
public sealed class StorageQueueTransport : IMessageTransport
{
    private readonly QueueServiceClient _service;
    private readonly ConcurrentDictionary<string, QueueClient> _queues = new(StringComparer.Ordinal);

    /// <summary>Connects with a connection string (Azurite, or an account key where policy allows it).</summary>
    public StorageQueueTransport(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _service = new QueueServiceClient(connectionString, CreateOptions());
    }

    /// <summary>Connects to the queue service endpoint with an Entra ID credential (managed identity, certificate).</summary>
    public StorageQueueTransport(Uri queueServiceUri, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(queueServiceUri);
        ArgumentNullException.ThrowIfNull(credential);
        _service = new QueueServiceClient(queueServiceUri, credential, CreateOptions());
    }

    /// <inheritdoc />
    public int MaxMessageBytes => 48 * 1024;

    /// <inheritdoc />
    public async Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) =>
        await Queue(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task SendAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan? visibilityDelay, CancellationToken cancellationToken)
    {
        if (body.Length > MaxMessageBytes)
        {
            throw new ArgumentException($"Message of {body.Length} bytes exceeds the transport limit of {MaxMessageBytes} bytes.", nameof(body));
        }

        // Messages live up to 7 days (the service maximum short of "never"), so an offline relay finds its commands.
        await Queue(queue).SendMessageAsync(new BinaryData(body), visibilityDelay, TimeSpan.FromDays(7), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TransportMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var response = await Queue(queue).ReceiveMessagesAsync(Math.Clamp(maxMessages, 1, 32), visibilityTimeout, cancellationToken);
        var messages = new List<TransportMessage>(response.Value.Length);
        foreach (var m in response.Value)
        {
            messages.Add(new TransportMessage(queue, m.MessageId, m.PopReceipt, (int)Math.Min(m.DequeueCount, int.MaxValue), m.Body.ToMemory(), m.InsertedOn));
        }

        return messages;
    }

    /// <inheritdoc />
    public async Task CompleteAsync(TransportMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await Queue(message.Queue).DeleteMessageAsync(message.Id, message.Receipt, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // 404: message or pop receipt unknown (deleted, or redelivered with a new receipt).
            throw new LeaseLostException("The message could not be completed: its lease was lost.", ex);
        }
    }

    /// <inheritdoc />
    public async Task<TransportMessage> SetVisibilityAsync(TransportMessage message, TimeSpan visibleAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            var receipt = await Queue(message.Queue).UpdateMessageAsync(message.Id, message.Receipt, message: null, visibleAfter, cancellationToken);
            return message with { Receipt = receipt.Value.PopReceipt };
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            throw new LeaseLostException("The message visibility could not be changed: its lease was lost.", ex);
        }
    }

    /// <summary>
    /// The queue's approximate message count (visible and in flight, as the service counts them), or null when the
    /// queue does not exist. Read for operators (<c>GET /sites</c>), never to decide anything.
    /// </summary>
    public async Task<int?> ApproximateMessageCountAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await Queue(queue).GetPropertiesAsync(cancellationToken);
            return properties.Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private QueueClient Queue(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _queues.GetOrAdd(name, static (n, service) => service.GetQueueClient(n), _service);
    }

    private static QueueClientOptions CreateOptions() => new()
    {
        MessageEncoding = QueueMessageEncoding.Base64,
        // The channel retries with its own backoff (Polly); keep the SDK's retries short so failures surface.
        Retry = { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(200), NetworkTimeout = TimeSpan.FromSeconds(30) },
    };
}
