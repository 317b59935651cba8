using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class RegistrationViewStoreTests(LocalStackFixture stack) : IAsyncLifetime
{
    private CosmosRegistrationViewStore _store = null!;
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;

    public async Task InitializeAsync()
    {
        var (client, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "view-store");
        _client = client;
        _store = new CosmosRegistrationViewStore(database.GetContainer("registrations"), TimeProvider.System);
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
    public async Task A_state_round_trips_with_an_id_containing_slashes()
    {
        var id = "reg/" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord", "ch-est");
        await _store.SaveAsync(started.State, CancellationToken.None);

        var loaded = await _store.LoadAsync(id, CancellationToken.None);
        Assert.NotNull(loaded);
        Assert.Equal(started.State.Version, loaded.Version);
        Assert.Equal(RegistrationStatus.Running, loaded.Status);
        Assert.Equal(["ch-est", "chu-nord"], loaded.Sites.Select(s => s.SiteId));
        Assert.Equal("TESTNOM", loaded.Plan!.Registration.Patient.BirthName);
    }

    [Fact]
    public async Task The_highest_version_wins_whatever_order_the_steps_are_recorded_in()
    {
        var id = "reg-" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord");
        var later = started.State with { Version = started.State.Version + 2, Round = 2 };
        await _store.SaveAsync(later, CancellationToken.None);
        await _store.SaveAsync(started.State, CancellationToken.None); // a retried, older step
        Assert.Equal(later.Version, (await _store.LoadAsync(id, CancellationToken.None))!.Version);

        // The same version again replaces it (the API's first record and the orchestration's own are the same step).
        await _store.SaveAsync(later with { Round = 3 }, CancellationToken.None);
        Assert.Equal(3, (await _store.LoadAsync(id, CancellationToken.None))!.Round);
    }

    [Fact]
    public async Task Concurrent_saves_of_successive_steps_leave_the_highest()
    {
        var id = "reg-" + Guid.NewGuid().ToString("N");
        var started = Samples.Started(id, "chu-nord");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => _store.SaveAsync(started.State with { Version = started.State.Version + i }, CancellationToken.None)));
        Assert.Equal(started.State.Version + 7, (await _store.LoadAsync(id, CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task The_registrations_waiting_to_ask_a_site_again_are_listed_by_that_site_until_it_answers_or_they_are_purged()
    {
        var (site, other) = ("wait-" + Guid.NewGuid().ToString("N")[..8], "other-" + Guid.NewGuid().ToString("N")[..8]);
        var (a, b, c) = ("reg-" + Guid.NewGuid().ToString("N"), "reg-" + Guid.NewGuid().ToString("N"), "reg-" + Guid.NewGuid().ToString("N"));
        var waitingA = WithSite(Samples.Started(a, site, other).State, site, SiteSearchStatus.Unreachable);
        var searchingB = Samples.Started(b, site).State;
        var earlierRoundC = WithSite(Samples.Started(c, site).State, site, SiteSearchStatus.Unreachable) with { Round = 2 };
        await Task.WhenAll(new[] { waitingA, searchingB, earlierRoundC }.Select(s => _store.SaveAsync(s, CancellationToken.None)));

        Assert.Equal([a], await WaitingForAsync(site));
        Assert.Empty(await WaitingForAsync(other));

        // A asked again and answered; B found the site unreachable, then was purged.
        await _store.SaveAsync(WithSite(waitingA, site, SiteSearchStatus.Searched) with { Version = waitingA.Version + 1 }, CancellationToken.None);
        var waitingB = WithSite(searchingB, site, SiteSearchStatus.Unreachable) with { Version = searchingB.Version + 1 };
        await _store.SaveAsync(waitingB, CancellationToken.None);
        Assert.Equal([b], await WaitingForAsync(site));
        await _store.SaveAsync(waitingB with { Version = waitingB.Version + 1, PurgedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        Assert.Empty(await WaitingForAsync(site));

        Task<IReadOnlyList<string>> WaitingForAsync(string siteId) => _store.RegistrationsWaitingForAsync(siteId, 10, CancellationToken.None);
    }

    private static RegistrationState WithSite(RegistrationState state, string siteId, SiteSearchStatus status) =>
        state with { Sites = [.. state.Sites.Select(s => s.SiteId == siteId ? s with { Status = status } : s)] };

    [Fact]
    public async Task A_start_request_key_belongs_to_the_first_registration_that_claims_it()
    {
        var key = "idem/" + Guid.NewGuid().ToString("N");
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-a", CancellationToken.None));
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-b", CancellationToken.None));
        Assert.Equal("reg-a", await _store.ClaimAsync(key, "reg-a", CancellationToken.None));
    }
}
