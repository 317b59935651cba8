using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class DispatchFailureLogTests(LocalStackFixture stack) : IAsyncLifetime
{
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;
    private Microsoft.Azure.Cosmos.Database _database = null!;

    public async Task InitializeAsync() => (_client, _database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "dispatch-failures");

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Failures_are_counted_per_command_from_the_first_one_and_concurrent_ones_all_count()
    {
        var log = new CosmosDispatchFailureLog(_database.GetContainer("registrations"));
        var first = new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero);
        var command = "reg-1/expertise/" + Guid.NewGuid().ToString("N");

        var one = await log.RecordFailureAsync("reg-1", command, first, CancellationToken.None);
        Assert.Equal(1, one.Attempts);
        Assert.Equal(first, one.FirstFailedAt);
        var two = await log.RecordFailureAsync("reg-1", command, first.AddMinutes(5), CancellationToken.None);
        Assert.Equal(2, two.Attempts);
        Assert.Equal(first, two.FirstFailedAt);

        // Two dispatchers failing at once (the sweep and an event path): each is counted, none lost to a race.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => log.RecordFailureAsync("reg-1", command, first.AddMinutes(10 + i), CancellationToken.None)));
        Assert.Equal([3, 4, 5, 6, 7, 8], concurrent.Select(c => c.Attempts).Order());

        // Another command has its own count.
        Assert.Equal(1, (await log.RecordFailureAsync("reg-1", command + "-other", first, CancellationToken.None)).Attempts);
    }
}
