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
        var longest = new string('a', Contracts.ResourceNames.MaxSiteIdLength);
        Assert.True(PoisonQueues.For(Contracts.ResourceNames.CommandQueueFor(longest)).Length <= 63);
        Assert.Equal(Contracts.ResourceNames.EventsPoisonQueueFor(longest), PoisonQueues.For(Contracts.ResourceNames.EventsQueueFor(longest)));
        Assert.Equal(63, Contracts.ResourceNames.EventsPoisonQueueFor(longest).Length);
        Assert.Throws<ArgumentException>(() => Contracts.ResourceNames.EventsQueueFor(longest + "a"));
        Assert.True(PoisonQueues.For(new string('q', 63)).Length <= 63);
    }

    [Fact]
    public void A_pointer_round_trips_and_an_inline_envelope_is_not_taken_for_one()
    {
        var pointer = QueueWireFormat.WritePointer(new MessageBodyReference("message-bodies", "q/2025-01-01/x.json"), "m1", "Echo", "reg-1");
        Assert.Equal(new MessageBodyReference("message-bodies", "q/2025-01-01/x.json"), QueueWireFormat.TryReadPointer(pointer));
        Assert.Equal(("m1", "Echo", "reg-1"), QueueWireFormat.TryReadIdentity(pointer));

        // Pointers written before the correlation id was added still name the message.
        var older = QueueWireFormat.WritePointer(new MessageBodyReference("message-bodies", "q/x.json"), "m2", "FindStudies");
        Assert.Equal(("m2", "FindStudies", (string?)null), QueueWireFormat.TryReadIdentity(older));

        var inline = """{"messageId":"m","type":"Echo","body":{"bodyRef":{"container":"c","blob":"b"}}}"""u8.ToArray();
        Assert.Null(QueueWireFormat.TryReadPointer(inline));
        Assert.Null(QueueWireFormat.TryReadPointer("garbage \"bodyRef\""u8));
    }

    [Fact]
    public void The_identity_of_an_envelope_whose_body_breaks_the_contract_is_still_read()
    {
        var raw = """{"messageId":"cmd-1","type":"RetrieveStudy","correlationId":"reg-7","siteId":"s1","schemaVersion":1,"body":{"studyInstanceUid":3}}"""u8.ToArray();
        Assert.Equal(("cmd-1", "RetrieveStudy", "reg-7"), QueueWireFormat.TryReadIdentity(raw));
        Assert.Equal(((string?)null, (string?)null, (string?)null), QueueWireFormat.TryReadIdentity("{ not json"u8));
        Assert.Equal(((string?)null, (string?)null, (string?)null), QueueWireFormat.TryReadIdentity("[1,2]"u8));
        Assert.Equal(("m", (string?)null, (string?)null), QueueWireFormat.TryReadIdentity("""{"messageId":"m","correlationId":42}"""u8));
    }

    [Fact]
    public void A_poison_record_keeps_the_correlation_id_and_reads_records_written_without_it()
    {
        var report = new PoisonReport("relay-commands-s1", "relay-poison-s1", "t-1", "cmd-1", "RetrieveStudy", PoisonReason.TooManyDeliveries, 6, "Delivered 6 times.", "reg-7");
        var record = new PoisonRecord(report, DateTimeOffset.UnixEpoch, "{}");
        Assert.Equal(record, PoisonRecord.Parse(record.Serialize()));

        var older = """{"queue":"q","poisonQueue":"q-poison","transportMessageId":"t","messageId":null,"type":null,"reason":"Malformed","deliveryCount":1,"detail":"d","quarantinedAt":"2025-01-01T00:00:00Z","raw":"x"}"""u8;
        Assert.Null(PoisonRecord.Parse(older).Report.CorrelationId);
    }
}
