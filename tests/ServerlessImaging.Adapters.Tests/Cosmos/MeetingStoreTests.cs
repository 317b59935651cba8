using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class MeetingStoreTests(LocalStackFixture stack) : IAsyncLifetime
{
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;
    private Microsoft.Azure.Cosmos.Database _database = null!;

    public async Task InitializeAsync() => (_client, _database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "meetings");

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
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
