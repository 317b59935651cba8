using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>Heartbeats through the relay-events queue become the site's recorded health (what GET /sites shows).</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class HeartbeatTests(LocalStackFixture stack)
{
    [Fact]
    public async Task A_heartbeat_on_the_events_queue_is_recorded_as_site_health_and_registrations_are_untouched()
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
}
