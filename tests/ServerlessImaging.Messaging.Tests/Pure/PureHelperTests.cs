using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Deduplication;
using ServerlessImaging.Messaging.Storage;

namespace ServerlessImaging.Messaging.Tests.Pure;

public sealed class PureHelperTests
{
    [Fact]
    public void Processed_ids_report_duplicates_and_evict_the_oldest_beyond_capacity()
    {
        var ids = new ProcessedMessageIds(2);
        Assert.True(ids.TryBegin("a"));
        Assert.False(ids.TryBegin("a"));
        Assert.True(ids.TryBegin("b"));
        Assert.True(ids.TryBegin("c"));

        Assert.Equal(2, ids.Count);
        Assert.False(ids.Contains("a"));
        Assert.True(ids.TryBegin("a"));
    }

    [Fact]
    public void A_forgotten_id_can_be_handled_again()
    {
        var ids = new ProcessedMessageIds();
        Assert.True(ids.TryBegin("a"));
        ids.Forget("a");
        Assert.True(ids.TryBegin("a"));
    }

    [Theory]
    [InlineData("relay-commands-chu-nord", "relay-poison-chu-nord")]
    [InlineData("relay-events", "relay-events-poison")]
    public void Poison_queue_names_follow_the_convention(string queue, string poison) =>
        Assert.Equal(poison, PoisonQueues.For(queue));

    [Fact]
    public void Poison_queue_names_stay_within_the_storage_limit_for_the_longest_site_id()
    {
        var queue = Contracts.ResourceNames.CommandQueueFor(new string('a', 48));
        Assert.True(PoisonQueues.For(queue).Length <= 63);
        Assert.True(PoisonQueues.For(new string('q', 63)).Length <= 63);
    }

    [Fact]
    public void A_pointer_round_trips_and_an_inline_envelope_is_not_taken_for_one()
    {
        var pointer = QueueWireFormat.WritePointer(new MessageBodyReference("message-bodies", "q/2025-01-01/x.json"), "m1", "Echo");
        Assert.Equal(new MessageBodyReference("message-bodies", "q/2025-01-01/x.json"), QueueWireFormat.TryReadPointer(pointer));
        Assert.Equal(("m1", "Echo"), QueueWireFormat.TryReadIdentity(pointer));

        var inline = """{"messageId":"m","type":"Echo","body":{"bodyRef":{"container":"c","blob":"b"}}}"""u8.ToArray();
        Assert.Null(QueueWireFormat.TryReadPointer(inline));
        Assert.Null(QueueWireFormat.TryReadPointer("garbage \"bodyRef\""u8));
    }
}
