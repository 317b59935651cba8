using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class RegistrationStateStoreTests(LocalStackFixture stack) : IAsyncLifetime
{
    private CosmosRegistrationStateStore _store = null!;
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;

    public async Task InitializeAsync()
    {
        var (client, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "state-store");
        _client = client;
        _store = new CosmosRegistrationStateStore(database.GetContainer("registrations"), TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_missing_registration_loads_as_null()
    {
        Assert.Null(await _store.LoadAsync("reg-" + Guid.NewGuid().ToString("N"), CancellationToken.None));
    }

    [Fact]
    public async Task State_and_outbox_round_trip_in_one_document_with_ids_containing_slashes()
    {
        var id = "reg/" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord", "ch-est");
        var etag = await _store.SaveAsync(started.State, started.Commands, null, CancellationToken.None);

        var loaded = await _store.LoadAsync(id, CancellationToken.None);
        Assert.NotNull(loaded);
        Assert.Equal(etag, loaded.ETag);
        Assert.Equal(started.State.Version, loaded.State.Version);
        Assert.Equal(RegistrationStatus.Running, loaded.State.Status);
        Assert.Equal(["ch-est", "chu-nord"], loaded.State.Sites.Select(s => s.SiteId));
        Assert.Equal(Samples.Ids(started.Commands), Samples.Ids(loaded.Outbox));
        Assert.Contains(loaded.Outbox, c => c is FindStudiesActivity { SiteId: "ch-est" });
        Assert.Equal("TESTNOM", loaded.State.Plan!.Registration.Patient.BirthName);
    }

    [Fact]
    public async Task A_stale_etag_is_a_concurrency_conflict_and_a_second_create_too()
    {
        var id = "reg-" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord");
        var first = await _store.SaveAsync(started.State, [], null, CancellationToken.None);
        var second = await _store.SaveAsync(started.State with { Version = started.State.Version + 1 }, [], first, CancellationToken.None);
        Assert.NotEqual(first, second);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => _store.SaveAsync(started.State, [], first, CancellationToken.None));
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => _store.SaveAsync(started.State, [], null, CancellationToken.None));
        Assert.Equal(started.State.Version + 1, (await _store.LoadAsync(id, CancellationToken.None))!.State.Version);
    }

    [Fact]
    public async Task Saves_append_to_the_outbox_without_duplicates_and_mark_dispatched_removes_only_the_named_commands()
    {
        var id = "reg-" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord", "clinique-sud");
        var commands = started.Commands;
        var etag = await _store.SaveAsync(started.State, commands.Take(2).ToList(), null, CancellationToken.None);
        etag = await _store.SaveAsync(started.State, commands.Skip(1).ToList(), etag, CancellationToken.None);

        var loaded = (await _store.LoadAsync(id, CancellationToken.None))!;
        Assert.Equal(Samples.Ids(commands), Samples.Ids(loaded.Outbox));

        await _store.MarkDispatchedAsync(id, [commands[0].CommandId, "not-a-command"], CancellationToken.None);
        Assert.Equal(Samples.Ids(commands.Skip(1)), Samples.Ids((await _store.LoadAsync(id, CancellationToken.None))!.Outbox));
        Assert.NotEqual(etag, (await _store.LoadAsync(id, CancellationToken.None))!.ETag);
    }

    [Fact]
    public async Task Pending_outboxes_are_found_once_old_enough_and_not_after_dispatch()
    {
        var id = "reg-" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord");
        await _store.SaveAsync(started.State, started.Commands, null, CancellationToken.None);

        Assert.DoesNotContain(id, await _store.RegistrationsWithPendingOutboxAsync(DateTimeOffset.UtcNow.AddMinutes(-5), 1000, CancellationToken.None));
        Assert.Contains(id, await _store.RegistrationsWithPendingOutboxAsync(DateTimeOffset.UtcNow.AddSeconds(5), 1000, CancellationToken.None));

        await _store.MarkDispatchedAsync(id, Samples.Ids(started.Commands), CancellationToken.None);
        Assert.DoesNotContain(id, await _store.RegistrationsWithPendingOutboxAsync(DateTimeOffset.UtcNow.AddSeconds(5), 1000, CancellationToken.None));
    }

    [Fact]
    public async Task A_start_request_key_belongs_to_the_first_registration_that_claims_it()
    {
        var key = "idem/" + Guid.NewGuid().ToString("N");
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-a", CancellationToken.None));
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-b", CancellationToken.None));
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-a", CancellationToken.None));
    }
}
