using Azure.Storage.Queues;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Storage;

[Collection(LocalStackFixture.CollectionName)]
public sealed class QueueSmokeTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Sent_message_is_received_once_and_gone_after_delete()
    {
        var ct = TestDeadline.Start();
        var queue = new QueueClient(stack.Endpoints.Storage.ConnectionString, UniqueNames.Queue("commands chu-nord"));
        await queue.CreateAsync(cancellationToken: ct);
        var body = $"{{\"commandId\":\"{Guid.NewGuid()}\"}}";

        await queue.SendMessageAsync(body, ct);
        var received = await queue.ReceiveMessagesAsync(maxMessages: 10, visibilityTimeout: TimeSpan.FromSeconds(30), cancellationToken: ct);

        var message = Assert.Single(received.Value);
        Assert.Equal(body, message.MessageText);
        Assert.Equal(1, message.DequeueCount);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
        var properties = await queue.GetPropertiesAsync(ct);
        Assert.Equal(0, properties.Value.ApproximateMessagesCount);
        await queue.DeleteAsync(ct);
    }

    [Fact]
    public async Task Message_not_deleted_reappears_after_its_visibility_timeout()
    {
        var ct = TestDeadline.Start();
        var queue = new QueueClient(stack.Endpoints.Storage.ConnectionString, UniqueNames.Queue("events"));
        await queue.CreateAsync(cancellationToken: ct);
        await queue.SendMessageAsync("retry me", ct);

        var first = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(1), ct);
        Assert.NotNull(first.Value);
        Assert.Null((await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(1), ct)).Value);

        // Wait on the condition with a deadline rather than a fixed sleep.
        Azure.Storage.Queues.Models.QueueMessage? again = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (again is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
            again = (await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30), ct)).Value;
        }

        Assert.NotNull(again);
        Assert.Equal("retry me", again.MessageText);
        Assert.Equal(2, again.DequeueCount);
        await queue.DeleteAsync(ct);
    }
}
