using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// Heartbeats through the relay-events queue become the site's recorded health (what GET /sites shows), and one saying
/// the PACS answers again (after one saying otherwise, or a silence) has the registrations waiting to ask the site
/// again ask it at once.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class HeartbeatTests(LocalStackFixture stack)
{
    [Fact]
    public async Task A_heartbeat_on_the_events_queue_is_recorded_as_site_health()
    {
        var site = RuntimeSettings.NewSiteId("beat");
        var settings = new RuntimeSettings(stack.Endpoints, [site]);
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services =>
            services.AddSingleton<ISiteHealthStore>(sp => new CosmosSiteHealthStore(sp.GetRequiredService<CosmosClient>().GetContainer(settings.DatabaseName, "sites"))));
        var health = runtime.Get<ISiteHealthStore>();
        Assert.Null(await health.GetAsync(site, CancellationToken.None));

        var beat = new MessageEnvelope("hb-" + Guid.NewGuid().ToString("N"), site, null, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new Heartbeat("1.2.3", DateTimeOffset.UtcNow, PacsEchoStatus.Ok, DateTimeOffset.UtcNow));
        await ScriptedRelay.CreateChannel(stack.Endpoints).SendAsync(settings.EventsQueueFor(site), beat, CancellationToken.None);

        SiteHealth? recorded = null;
        await Scenario.WaitUntilAsync(async () => (recorded = await health.GetAsync(site, CancellationToken.None)) is not null, "the heartbeat recorded");
        Assert.Equal(PacsEchoStatus.Ok, recorded!.PacsEcho);
        Assert.Equal("1.2.3", recorded.RelayVersion);
        Assert.Equal(RelayEventOutcome.HeartbeatRecorded, await runtime.Get<RelayEventProcessor>().ProcessAsync(site, beat, CancellationToken.None));
    }

    [Fact]
    public async Task A_heartbeat_saying_the_pacs_answers_has_a_registration_waiting_to_ask_the_site_again_ask_it_at_once()
    {
        var site = RuntimeSettings.NewSiteId("wake");
        var settings = new RuntimeSettings(stack.Endpoints, [site]) { FindTimeout = TimeSpan.FromSeconds(2) };
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services =>
            services.AddSingleton<ISiteHealthStore>(sp => new CosmosSiteHealthStore(sp.GetRequiredService<CosmosClient>().GetContainer(settings.DatabaseName, "sites"))));
        var patient = await PacsSeed.StoreAsync(stack.Endpoints.Site("chu-nord"), 1);
        var client = runtime.Get<IRegistrationOrchestrationClient>();
        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);

        // No relay answers: the burst's attempts time out, and the site waits ten minutes to be asked again.
        var unreachable = (await Scenario.WaitForAsync(client, id, s => s.State.SiteOf(site)?.Status == SiteSearchStatus.Unreachable)).State.SiteOf(site)!;
        Assert.True(unreachable.NextAttemptAt > DateTimeOffset.UtcNow + TimeSpan.FromMinutes(9), "the retry is ten minutes away");
        Assert.Equal([id], await runtime.Get<ISiteSearchWaitIndex>().RegistrationsWaitingForAsync(site, 10, CancellationToken.None));

        // The relay's heartbeat says its PACS fails: nothing changes. Then that it answers: the site is asked at once.
        var channel = ScriptedRelay.CreateChannel(stack.Endpoints);
        await channel.SendAsync(settings.EventsQueueFor(site), Beat(site, PacsEchoStatus.Failed), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(unreachable.Attempt, (await client.GetStatusAsync(id, CancellationToken.None))!.State.SiteOf(site)!.Attempt);

        await channel.SendAsync(settings.EventsQueueFor(site), Beat(site, PacsEchoStatus.Ok), CancellationToken.None);
        // Asked again long before its retry time (the wait fails after 30 s).
        await Scenario.WaitForAsync(client, id, s => s.State.SiteOf(site)!.Attempt > unreachable.Attempt, TimeSpan.FromSeconds(30));

        // Its burst times out again. While the relay keeps saying its PACS answers, the next heartbeat is no recovery:
        // the site waits for its retry time (a PACS that answers C-ECHO but not C-FIND is not asked every minute).
        var again = (await Scenario.WaitForAsync(client, id, s => s.State.SiteOf(site) is { Status: SiteSearchStatus.Unreachable } x && x.Attempt > unreachable.Attempt)).State.SiteOf(site)!;
        await channel.SendAsync(settings.EventsQueueFor(site), Beat(site, PacsEchoStatus.Ok), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(again.Attempt, (await client.GetStatusAsync(id, CancellationToken.None))!.State.SiteOf(site)!.Attempt);
    }

    private static MessageEnvelope Beat(string site, PacsEchoStatus echo) =>
        new("hb-" + Guid.NewGuid().ToString("N"), site, null, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new Heartbeat("1.2.3", DateTimeOffset.UtcNow, echo, DateTimeOffset.UtcNow));
}
