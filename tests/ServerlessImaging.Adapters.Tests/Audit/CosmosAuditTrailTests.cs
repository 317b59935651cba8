using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Audit;

[Collection(LocalStackFixture.CollectionName)]
public sealed class CosmosAuditTrailTests(LocalStackFixture stack) : IAsyncLifetime
{
    private CosmosClient? client;
    private CosmosAuditTrail trail = null!;
    private Container container = null!;

    public async Task InitializeAsync()
    {
        var (c, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "audit");
        client = c;
        container = database.GetContainer("audit");
        trail = new CosmosAuditTrail(container, "test");
    }

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await client.GetDatabase(container.Database.Id).DeleteAsync();
            client.Dispose();
        }
    }

    private static WriteAuditActivity Activity(string commandId, DateTimeOffset at, string registrationId = "reg-1", string patientKey = "pk1-0123456789abcdef0123456789abcdef", string? site = "chu-nord", AuditAction action = AuditAction.SiteSearched, long sequence = 1, DateTimeOffset? recordedAt = null) =>
        new(commandId, registrationId, at, action, AuditOutcome.Success, patientKey, null, site, null, "3 studies returned, 1 matched") { Sequence = sequence, RecordedAt = recordedAt ?? at };

    [Fact]
    public async Task The_same_command_written_twice_is_one_record_with_the_dicom_shape_and_the_first_write_stands()
    {
        var at = new DateTimeOffset(2030, 1, 2, 10, 0, 0, TimeSpan.Zero);
        await trail.WriteAsync(Activity("reg-1/find/chu-nord/r1/a1", at), CancellationToken.None);
        await trail.WriteAsync(Activity("reg-1/find/chu-nord/r1/a1", at) with { Detail = "rewritten" }, CancellationToken.None);

        var page = await trail.QueryAsync(new AuditQuery(RegistrationId: "reg-1"), CancellationToken.None);
        var record = Assert.Single(page.Records);
        Assert.Equal("3 studies returned, 1 matched", record.OutcomeDescription);
        Assert.Equal((1L, at), (record.Sequence, record.RecordedAt));
        Assert.Equal("110112", record.EventId.Code);
        Assert.Equal("E", record.ActionCode);
        Assert.Equal(0, record.Outcome);
        Assert.Equal("2030-01-02", record.PartitionKey);
        Assert.Contains(record.ParticipantObjects, o => o is { TypeCode: 1, RoleCode: 1, Id: "pk1-0123456789abcdef0123456789abcdef" });
        Assert.Contains(record.ActiveParticipants, p => p is { Kind: "site", UserId: "chu-nord" });
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Filters_combine_and_pages_follow_each_other_in_recorded_then_sequence_order_without_gaps()
    {
        var start = new DateTimeOffset(2030, 2, 1, 23, 58, 0, TimeSpan.Zero);

        // 7 records of one registration recorded across a day boundary (two partitions), the last two in the same
        // millisecond; their event times run backwards, so an order by event time or by id would show.
        for (var i = 0; i < 7; i++)
        {
            var recordedAt = start.AddMinutes(i == 6 ? 5 : i);
            await trail.WriteAsync(Activity($"reg-2/step/{i}", start.AddSeconds(-i), registrationId: "reg-2", patientKey: "pk1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", sequence: i + 1, recordedAt: recordedAt), CancellationToken.None);
        }

        await trail.WriteAsync(Activity("reg-3/other", start, registrationId: "reg-3", patientKey: "pk1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", site: "ch-est"), CancellationToken.None);

        var seen = new List<AuditRecord>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await trail.QueryAsync(new AuditQuery(PatientKey: "pk1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", From: start.AddMinutes(-1), To: start.AddMinutes(10), PageSize: 3, ContinuationToken: token), CancellationToken.None);
            seen.AddRange(page.Records);
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(7, seen.Count);
        Assert.Equal(7, seen.Select(r => r.Id).Distinct().Count());
        Assert.Equal(3, pages);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], seen.Select(r => r.Sequence!.Value));
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.RecordedAt <= p.Second.RecordedAt));
        Assert.Equal(["2030-02-01", "2030-02-02"], seen.Select(r => r.PartitionKey).Distinct().Order(StringComparer.Ordinal));

        var bySite = await trail.QueryAsync(new AuditQuery(SiteId: "ch-est"), CancellationToken.None);
        Assert.Equal("reg-3", Assert.Single(bySite.Records).RegistrationId);

        var outOfRange = await trail.QueryAsync(new AuditQuery(PatientKey: "pk1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", From: start.AddMinutes(2), To: start.AddMinutes(3)), CancellationToken.None);
        Assert.Equal(2, outOfRange.Records.Count);
    }

    [Fact]
    public async Task A_request_record_written_microseconds_after_an_orchestration_record_of_the_same_millisecond_comes_after_it()
    {
        // As the API's RegistrationRequested (no sequence) and the orchestration's RegistrationStarted (sequence 1)
        // were once recorded: 22 µs apart, the request second, in one millisecond.
        var millisecond = new DateTimeOffset(2030, 3, 1, 9, 15, 12, 216, TimeSpan.Zero);
        var started = Activity("reg-4/start", millisecond, registrationId: "reg-4", recordedAt: millisecond.AddTicks(3649));
        await trail.WriteAsync(started, CancellationToken.None);
        var request = OrchestrationAuditMapper.Map(Activity("reg-4/request", millisecond, registrationId: "reg-4", recordedAt: millisecond.AddTicks(3873)), "api") with { Sequence = null };
        await trail.AppendAsync(request, CancellationToken.None);

        var page = await trail.QueryAsync(new AuditQuery(RegistrationId: "reg-4"), CancellationToken.None);
        Assert.Equal([1L, null], page.Records.Select(r => r.Sequence));
        Assert.Equal([millisecond.AddTicks(3649), millisecond.AddTicks(3873)], page.Records.Select(r => r.RecordedAt));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("v1.!!!")]
    [InlineData("v1.YWJj")]
    [InlineData("v2.YWJj")]
    [InlineData("v2.MDAwMDAwMDAwMDAwMDAxfDAwMDAwMDAwMDAwMDAwMDAwMDF8YXUteA")]
    public async Task A_forged_continuation_token_is_a_typed_error(string token)
    {
        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => trail.QueryAsync(new AuditQuery(ContinuationToken: token), CancellationToken.None));
    }
}
