using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Meetings;
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

    [Fact]
    public async Task A_delivery_destination_round_trips_and_a_meeting_stored_without_one_reads_as_none()
    {
        var container = _database.GetContainer("meetings");
        var meetings = new CosmosMeetingStore(container);
        var id = "rcp/" + Guid.NewGuid().ToString("N");
        var destination = new MeetingDestination("chu-nord", "RCPPACS", "10.20.0.40", 104);

        await meetings.UpsertAsync(Samples.Meeting(id) with { DeliveryDestination = destination }, null, CancellationToken.None);
        Assert.Equal(destination, (await meetings.GetAsync(id, CancellationToken.None))!.Meeting.DeliveryDestination);

        // A document as written before destinations existed: no such member at all.
        var legacyId = "rcp/" + Guid.NewGuid().ToString("N");
        var encoded = CosmosIds.Encode(legacyId);
        var legacy = $$$"""
            {"id":"{{{encoded}}}","type":"meeting","meeting":{"id":"{{{legacyId}}}","title":"RCP ancienne","startsAt":"2030-05-14T14:00:00+02:00","site":"CHU Nord","capacity":20,
             "defaultFilter":{"modalities":[],"date":{"kind":"None"}},"onCallRadiologist":null,"onCallNuclearPhysician":null,"autoSelect":{"mode":"Manual","maxStudies":0},"retentionDays":30}}
            """;
        using (var body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(legacy)))
        using (var created = await container.CreateItemStreamAsync(body, new Microsoft.Azure.Cosmos.PartitionKey(encoded)))
        {
            Assert.True(created.IsSuccessStatusCode, $"legacy document not created: {created.StatusCode}");
        }

        var read = (await meetings.GetAsync(legacyId, CancellationToken.None))!.Meeting;
        Assert.Null(read.DeliveryDestination);
        Assert.Equal("RCP ancienne", read.Title);
        Assert.Empty(read.Validate(new DateTimeOffset(2030, 5, 1, 0, 0, 0, TimeSpan.Zero)));
    }
}
