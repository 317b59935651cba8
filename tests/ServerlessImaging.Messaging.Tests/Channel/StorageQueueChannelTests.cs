using System.Text;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Deduplication;
using ServerlessImaging.Messaging.Tests.Support;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Messaging.Tests.Channel;

[Collection(LocalStackFixture.CollectionName)]
public sealed class StorageQueueChannelTests(LocalStackFixture stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_envelope_sent_is_received_intact_and_gone_once_completed()
    {
        var sut = new ChannelUnderTest(stack);
        var sent = ChannelUnderTest.Echo();

        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);
        var received = Assert.Single(await sut.ReceiveWithinAsync(Deadline));

        Assert.Equal(sent.MessageId, received.Envelope.MessageId);
        Assert.Equal(sent.CorrelationId, received.Envelope.CorrelationId);
        Assert.IsType<EchoCommand>(received.Envelope.Body);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Null(received.BodyReference);

        await sut.Channel.CompleteAsync(received, CancellationToken.None);
        Assert.Equal(0, await ChannelUnderTest.ApproximateCountAsync(sut.QueueClient));
    }

    [Fact]
    public async Task A_body_over_the_queue_limit_goes_through_a_blob_that_is_deleted_after_completion()
    {
        var sut = new ChannelUnderTest(stack);
        var manifest = Enumerable.Range(0, 1000)
            .Select(i => new StagedInstance("2.25.1", $"2.25.{i}", $"p/2.25.{i}.dcm", 500_000 + i, new string('a', 64)))
            .ToList();
        var sent = new MessageEnvelope("m-" + Guid.NewGuid().ToString("N"), "reg-1", "cmd-1", "chu-nord", DateTimeOffset.UtcNow, 1, new RetrievalCompleted("2.25.1", manifest));
        Assert.True(MessageCodec.Serialize(sent).Length > sut.Transport.MaxMessageBytes);

        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);
        var received = Assert.Single(await sut.ReceiveWithinAsync(Deadline));

        Assert.NotNull(received.BodyReference);
        var body = Assert.IsType<RetrievalCompleted>(received.Envelope.Body);
        Assert.Equal(manifest, body.Manifest);
        Assert.True((await sut.BodyContainer.GetBlobClient(received.BodyReference!.Blob).ExistsAsync()).Value);

        await sut.Channel.CompleteAsync(received, CancellationToken.None);
        Assert.False((await sut.BodyContainer.GetBlobClient(received.BodyReference.Blob).ExistsAsync()).Value);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"messageId\":\"x\",\"type\":\"Frobnicate\",\"correlationId\":\"c\",\"siteId\":\"s\",\"sentAt\":\"2025-01-01T00:00:00Z\",\"schemaVersion\":1,\"body\":{}}")]
    [InlineData("{\"messageId\":\"x\",\"type\":\"Echo\",\"correlationId\":\"c\",\"siteId\":\"s\",\"sentAt\":\"2025-01-01T00:00:00Z\",\"schemaVersion\":9,\"body\":{}}")]
    public async Task A_malformed_message_is_quarantined_with_its_raw_text_and_reported(string raw)
    {
        var sut = new ChannelUnderTest(stack);
        await sut.Channel.SendAsync(sut.Queue, ChannelUnderTest.Echo(), CancellationToken.None);
        await sut.QueueClient.SendMessageAsync(new BinaryData(Encoding.UTF8.GetBytes(raw)));

        // Both arrive eventually; only the good one is handed to the consumer.
        var readable = new List<ChannelMessage>();
        using var cts = new CancellationTokenSource(Deadline);
        while (readable.Count == 0 || sut.Reports.Count == 0)
        {
            readable.AddRange(await sut.Channel.ReceiveAsync(sut.Queue, cts.Token));
            await Task.Delay(50, cts.Token);
        }

        var report = Assert.Single(sut.Reports);
        Assert.Equal(PoisonReason.Malformed, report.Reason);
        Assert.Equal(PoisonQueues.For(sut.Queue), report.PoisonQueue);
        var poison = (await sut.PoisonClient.ReceiveMessagesAsync(1)).Value;
        var record = PoisonRecord.Parse(Assert.Single(poison).Body.ToArray());
        Assert.Equal(raw, record.Raw);
        Assert.Equal(PoisonReason.Malformed, record.Report.Reason);
        Assert.Equal(sut.Queue, record.Report.Queue);

        await sut.Channel.CompleteAsync(Assert.Single(readable), CancellationToken.None);
        Assert.Equal(0, await ChannelUnderTest.ApproximateCountAsync(sut.QueueClient));
    }

    [Fact]
    public async Task An_uncompleted_message_comes_back_after_its_visibility_timeout_with_a_higher_delivery_count()
    {
        var sut = new ChannelUnderTest(stack, new MessageChannelOptions { VisibilityTimeout = TimeSpan.FromSeconds(1) });
        var sent = ChannelUnderTest.Echo();
        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);

        var first = Assert.Single(await sut.ReceiveWithinAsync(Deadline));
        Assert.Empty(await sut.Channel.ReceiveAsync(sut.Queue, CancellationToken.None));
        var second = Assert.Single(await sut.ReceiveWithinAsync(Deadline));

        Assert.Equal(sent.MessageId, second.Envelope.MessageId);
        Assert.Equal(first.DeliveryCount + 1, second.DeliveryCount);
        await Assert.ThrowsAsync<LeaseLostException>(() => sut.Channel.CompleteAsync(first, CancellationToken.None));
        await sut.Channel.CompleteAsync(second, CancellationToken.None);
    }

    [Fact]
    public async Task A_duplicate_delivery_reaches_the_consumer_and_processed_ids_catch_it()
    {
        var sut = new ChannelUnderTest(stack);
        var sent = ChannelUnderTest.Echo();
        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);
        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);

        var processed = new ProcessedMessageIds(16);
        var handled = 0;
        var seen = 0;
        using var cts = new CancellationTokenSource(Deadline);
        while (seen < 2)
        {
            foreach (var message in await sut.Channel.ReceiveAsync(sut.Queue, cts.Token))
            {
                seen++;
                if (processed.TryBegin(message.Envelope.MessageId))
                {
                    handled++;
                }

                await sut.Channel.CompleteAsync(message, cts.Token);
            }
        }

        Assert.Equal(2, seen);
        Assert.Equal(1, handled);
    }

    [Fact]
    public async Task A_message_abandoned_past_the_delivery_limit_is_quarantined_not_retried_forever()
    {
        var sut = new ChannelUnderTest(stack, new MessageChannelOptions { MaxDeliveries = 2 });
        var sent = ChannelUnderTest.Echo();
        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var message = Assert.Single(await sut.ReceiveWithinAsync(Deadline));
            Assert.Equal(attempt, message.DeliveryCount);
            await sut.Channel.AbandonAsync(message, CancellationToken.None);
        }

        var report = await SinglePoisonReportAsync(sut);
        Assert.Equal(PoisonReason.TooManyDeliveries, report.Reason);
        Assert.Equal(sent.MessageId, report.MessageId);
        Assert.Equal(sent.CorrelationId, report.CorrelationId);
        Assert.Equal(3, report.DeliveryCount);
        var record = PoisonRecord.Parse(Assert.Single((await sut.PoisonClient.ReceiveMessagesAsync(1)).Value).Body.ToArray());
        Assert.Equal(sent.MessageId, MessageCodec.Deserialize(Encoding.UTF8.GetBytes(record.Raw)).MessageId);
        Assert.Equal(sent.CorrelationId, record.Report.CorrelationId);
        Assert.Equal(0, await ChannelUnderTest.ApproximateCountAsync(sut.QueueClient));
    }

    [Fact]
    public async Task An_offloaded_message_past_the_delivery_limit_is_reported_with_its_ids_read_from_the_pointer()
    {
        var sut = new ChannelUnderTest(stack, new MessageChannelOptions { MaxDeliveries = 1 });
        var manifest = Enumerable.Range(0, 1000)
            .Select(i => new StagedInstance("2.25.1", $"2.25.{i}", $"p/2.25.{i}.dcm", 500_000 + i, new string('a', 64)))
            .ToList();
        var sent = new MessageEnvelope("m-" + Guid.NewGuid().ToString("N"), "reg-" + Guid.NewGuid().ToString("N"), "cmd-1", "chu-nord", DateTimeOffset.UtcNow, 1, new RetrievalCompleted("2.25.1", manifest));
        await sut.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);
        var first = Assert.Single(await sut.ReceiveWithinAsync(Deadline));
        Assert.NotNull(first.BodyReference);
        await sut.Channel.AbandonAsync(first, CancellationToken.None);

        var report = await SinglePoisonReportAsync(sut);
        Assert.Equal(PoisonReason.TooManyDeliveries, report.Reason);
        Assert.Equal((sent.MessageId, "RetrievalCompleted", sent.CorrelationId), (report.MessageId, report.Type, report.CorrelationId));
    }

    [Fact]
    public async Task A_renewed_lease_keeps_the_message_hidden_past_the_original_timeout()
    {
        var sut = new ChannelUnderTest(stack, new MessageChannelOptions { VisibilityTimeout = TimeSpan.FromSeconds(1) });
        await sut.Channel.SendAsync(sut.Queue, ChannelUnderTest.Echo(), CancellationToken.None);
        var message = Assert.Single(await sut.ReceiveWithinAsync(Deadline));

        await sut.Channel.RenewAsync(message, TimeSpan.FromSeconds(30), CancellationToken.None);
        await Task.Delay(1500);

        Assert.Empty(await sut.Channel.ReceiveAsync(sut.Queue, CancellationToken.None));
        await sut.Channel.CompleteAsync(message, CancellationToken.None);
    }

    [Fact]
    public async Task A_listener_rides_out_an_unreachable_queue_service_and_receives_once_it_is_back()
    {
        var port = LoopbackTcpForwarder.FreePort();
        var azurite = stack.Endpoints.Storage;
        var viaProxy = $"DefaultEndpointsProtocol=http;AccountName={azurite.AccountName};AccountKey={azurite.AccountKey};QueueEndpoint=http://127.0.0.1:{port}/{azurite.AccountName};BlobEndpoint={azurite.BlobEndpoint};";
        var options = new MessageChannelOptions { ReconnectBaseDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromMilliseconds(500) };
        var direct = new ChannelUnderTest(stack);
        var sut = new ChannelUnderTest(stack, options, viaProxy);
        options.CreateQueuesIfMissing = false;
        var sent = ChannelUnderTest.Echo();
        await direct.Channel.SendAsync(sut.Queue, sent, CancellationToken.None);

        using var cts = new CancellationTokenSource(Deadline);
        var listening = Task.Run(async () =>
        {
            await foreach (var message in sut.Channel.ListenAsync(sut.Queue, cts.Token))
            {
                return message;
            }

            throw new InvalidOperationException("Listener ended without a message.");
        });

        await Task.Delay(1500);
        Assert.False(listening.IsCompleted);
        await using (new LoopbackTcpForwarder(azurite.QueueEndpoint.Port, listenPort: port))
        {
            var received = await listening;
            Assert.Equal(sent.MessageId, received.Envelope.MessageId);
            await sut.Channel.CompleteAsync(received, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Sending_to_an_unreachable_queue_service_fails_after_the_configured_attempts()
    {
        var port = LoopbackTcpForwarder.FreePort();
        var transport = new StorageQueueTransport($"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={stack.Endpoints.Storage.AccountKey};QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;");
        var channel = new MessageChannel(transport, null, new MessageChannelOptions { SendAttempts = 2, ReconnectBaseDelay = TimeSpan.FromMilliseconds(50) });

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => channel.SendAsync("q", ChannelUnderTest.Echo(), CancellationToken.None));
        Assert.True(Resilience.TransientFailures.IsTransient(ex));
    }

    // Receives until the channel reports the message it quarantined; nothing is handed out meanwhile.
    private static async Task<PoisonReport> SinglePoisonReportAsync(ChannelUnderTest sut)
    {
        using var cts = new CancellationTokenSource(Deadline);
        while (sut.Reports.Count == 0)
        {
            Assert.Empty(await sut.Channel.ReceiveAsync(sut.Queue, cts.Token));
            await Task.Delay(50, cts.Token);
        }

        return Assert.Single(sut.Reports);
    }
}
