using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Messaging.Tests.Support;

/// <summary>A channel on Azurite with a run-unique queue and body container.</summary>
public sealed class ChannelUnderTest
{
    public ChannelUnderTest(LocalStackFixture stack, MessageChannelOptions? options = null, string? connectionString = null)
    {
        Queue = UniqueNames.Queue("chan");
        BodyContainer = new BlobContainerClient(stack.Endpoints.Storage.ConnectionString, UniqueNames.BlobContainer("bodies"));
        Reports = [];
        Options = options ?? new MessageChannelOptions();
        Options.CreateQueuesIfMissing = true;
        Options.OnQuarantined = (report, _) =>
        {
            lock (Reports)
            {
                Reports.Add(report);
            }

            return Task.CompletedTask;
        };
        Transport = new StorageQueueTransport(connectionString ?? stack.Endpoints.Storage.ConnectionString);
        Channel = new MessageChannel(Transport, new BlobMessageBodyStore(BodyContainer) { CreateContainerIfMissing = true }, Options);
        QueueClient = new QueueClient(stack.Endpoints.Storage.ConnectionString, Queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        PoisonClient = new QueueClient(stack.Endpoints.Storage.ConnectionString, PoisonQueues.For(Queue), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    }

    public string Queue { get; }

    public BlobContainerClient BodyContainer { get; }

    public List<PoisonReport> Reports { get; }

    public MessageChannelOptions Options { get; }

    public StorageQueueTransport Transport { get; }

    public MessageChannel Channel { get; }

    /// <summary>Direct SDK access to the queue, to inject raw (malformed) messages and count what is left.</summary>
    public QueueClient QueueClient { get; }

    public QueueClient PoisonClient { get; }

    public static MessageEnvelope Echo(string? id = null) =>
        new(id ?? Guid.NewGuid().ToString("N"), "reg-" + Guid.NewGuid().ToString("N")[..8], null, "chu-nord", DateTimeOffset.UtcNow, 1, new EchoCommand());

    /// <summary>Receives until at least one readable message arrives or the deadline passes.</summary>
    public async Task<IReadOnlyList<ChannelMessage>> ReceiveWithinAsync(TimeSpan deadline, string? queue = null)
    {
        using var cts = new CancellationTokenSource(deadline);
        while (true)
        {
            var batch = await Channel.ReceiveAsync(queue ?? Queue, cts.Token);
            if (batch.Count > 0)
            {
                return batch;
            }

            await Task.Delay(100, cts.Token);
        }
    }

    public static async Task<int> ApproximateCountAsync(QueueClient client)
    {
        if (!(await client.ExistsAsync()).Value)
        {
            return 0;
        }

        return (await client.GetPropertiesAsync()).Value.ApproximateMessagesCount;
    }
}
