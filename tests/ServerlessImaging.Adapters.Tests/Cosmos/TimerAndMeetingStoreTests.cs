using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class TimerAndMeetingStoreTests(LocalStackFixture stack) : IAsyncLifetime
{
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;
    private Microsoft.Azure.Cosmos.Database _database = null!;

    public async Task InitializeAsync() => (_client, _database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "timers-meetings");

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Timers_are_scheduled_once_returned_when_due_oldest_first_and_removed()
    {
        var timers = new CosmosDurableTimerStore(_database.GetContainer("registrations"));
        var now = DateTimeOffset.UtcNow;
        var late = new StartDurableTimer("r1/timer/purge", "r1", now.AddSeconds(-5), TimerPurpose.Purge);
        var early = new StartDurableTimer("r2/timer/find-timeout/chu-nord/r1/a1", "r2", now.AddSeconds(-30), TimerPurpose.FindTimeout);
        var future = new StartDurableTimer("r3/timer/purge", "r3", now.AddDays(30), TimerPurpose.Purge);
        foreach (var timer in new[] { late, early, future, late })
        {
            await timers.ScheduleAsync(timer, CancellationToken.None);
        }

        var due = await timers.DueAsync(now, 10, CancellationToken.None);
        Assert.Equal([early.CommandId, late.CommandId], due.Select(t => t.CommandId));
        Assert.Equal(TimerPurpose.FindTimeout, due[0].Purpose);
        Assert.Single(await timers.DueAsync(now, 1, CancellationToken.None));

        await timers.RemoveAsync(early.CommandId, CancellationToken.None);
        await timers.RemoveAsync(early.CommandId, CancellationToken.None);
        Assert.Equal([late.CommandId], (await timers.DueAsync(now, 10, CancellationToken.None)).Select(t => t.CommandId));
        Assert.Equal(3, (await timers.DueAsync(now.AddDays(31), 10, CancellationToken.None)).Count + 1);
    }

    [Fact]
    public async Task Meetings_round_trip_and_a_stale_etag_is_refused()
    {
        var meetings = new CosmosMeetingStore(_database.GetContainer("meetings"));
        var id = "rcp/" + Guid.NewGuid().ToString("N");
        Assert.Null(await meetings.GetAsync(id, CancellationToken.None));

        var first = await meetings.UpsertAsync(Samples.Meeting(id), null, CancellationToken.None);
        var stored = await meetings.GetAsync(id, CancellationToken.None);
        Assert.Equal(Samples.Meeting(id).Title, stored!.Meeting.Title);
        Assert.Equal(first, stored.ETag);
        Assert.Equal("radio@example.org", stored.Meeting.OnCallRadiologist!.Email);

        var second = await meetings.UpsertAsync(Samples.Meeting(id, "RCP digestive"), first, CancellationToken.None);
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => meetings.UpsertAsync(Samples.Meeting(id, "lost update"), first, CancellationToken.None));
        var latest = await meetings.GetAsync(id, CancellationToken.None);
        Assert.Equal("RCP digestive", latest!.Meeting.Title);
        Assert.Equal(second, latest.ETag);
    }
}
