using Azure.Storage.Queues;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Api;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Testing.Metrics;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// A relay speaking for a site not its own, through the standalone listener on the real Azurite queues: site B's relay
/// (or anything holding B's credential) answers, fails and heartbeats for site A's command on B's events queue. The app
/// takes the site from the queue, so none of it reaches A's registration or health: quarantined, logged, counted.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ForeignSiteEventTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Site_B_answering_failing_and_heartbeating_for_site_A_changes_nothing_for_A_and_is_quarantined_logged_and_counted()
    {
        var endpoints = stack.Endpoints;
        var (siteA, siteB) = (RuntimeSettings.NewSiteId("site-a"), RuntimeSettings.NewSiteId("site-b"));
        var settings = new RuntimeSettings(endpoints, [siteA, siteB]);
        var logs = new RecordingLoggerProvider();
        using var counters = new MeterTotals(RelayEventMetrics.MeterName);
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.AddSingleton<ISiteHealthStore>(sp => new CosmosSiteHealthStore(sp.GetRequiredService<CosmosClient>().GetContainer(settings.DatabaseName, "sites")));
        });

        // A registration searching both sites; no relay answers, so both stay Searching unless something is applied.
        var patient = await PacsSeed.StoreAsync(endpoints.Site("chu-nord"), 1);
        var client = runtime.Get<IRegistrationOrchestrationClient>();
        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
        var before = await Scenario.WaitForAsync(client, id, s => s.State.Sites.Length == 2 && s.State.Sites.All(x => x.Status == SiteSearchStatus.Searching && x.Attempt == 1));
        var durable = runtime.Get<DurableTaskClient>();
        async Task<long> StepsAsync() => (await durable.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadCustomStatusAs<RegistrationProgress>()!.Version;

        // Site B's relay speaks for A: an answer to A's search, a failure of it, and A's heartbeat, all on B's queue.
        var findA = CommandIds.Find(id, siteA, 1, 1);
        var now = DateTimeOffset.UtcNow;
        MessageEnvelope[] forged =
        [
            new(findA + "/StudiesFound", id, findA, siteA, now, MessageCodec.CurrentSchemaVersion, new StudiesFound([])),
            new(findA + "/CommandFailed", id, findA, siteA, now, MessageCodec.CurrentSchemaVersion, new CommandFailed("FindStudies", FailureReason.PacsUnreachable, "forged")),
            new("hb-" + Guid.NewGuid().ToString("N"), siteA, null, siteA, now, MessageCodec.CurrentSchemaVersion, new Heartbeat("6.6.6", now, PacsEchoStatus.Failed, now)),
        ];
        var channel = ScriptedRelay.CreateChannel(endpoints);
        foreach (var message in forged)
        {
            await channel.SendAsync(settings.EventsQueueFor(siteB), message, CancellationToken.None);
        }

        // All three in B's events poison queue, with the reason; B's queue drained.
        var poison = new QueueClient(endpoints.Storage.ConnectionString, PoisonQueues.For(settings.EventsQueueFor(siteB)), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await Scenario.WaitUntilAsync(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(10)).Value.Length == forged.Length, "the forged messages in site B's events poison queue");
        var records = (await poison.PeekMessagesAsync(10)).Value.Select(m => PoisonRecord.Parse(m.Body.ToArray())).ToList();
        Assert.Equal(forged.Select(m => m.MessageId).Order(StringComparer.Ordinal), records.Select(r => r.Report.MessageId).Order(StringComparer.Ordinal));
        Assert.All(records, r => Assert.Equal("Claims a site other than the one whose events queue it was read from.", r.Report.Detail));

        // Nothing changed for A: its search is still in flight, no step applied, no health recorded.
        var after = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.Equal(SiteSearchStatus.Searching, after.State.SiteOf(siteA)!.Status);
        Assert.Equal(before.State.Version, after.State.Version);
        Assert.Null(await runtime.Get<ISiteHealthStore>().GetAsync(siteA, CancellationToken.None));

        // One warning and one count each, naming the queue's site and the claimed one.
        var warnings = logs.Lines.Where(l => l.Contains($"on site {siteB}'s events queue claims site {siteA}", StringComparison.Ordinal)).ToList();
        Assert.Equal(forged.Length, warnings.Count);
        Assert.Equal(forged.Length, counters["app.relay.foreign_site_messages", "site", siteB]);
        Assert.Equal(forged.Length, counters["app.relay.foreign_site_messages", "claimed_site", siteA]);

        // Site B speaking in its own name about A's search (its command id is predictable): raised to B's search, which
        // hands the answer to the state (ignored: an answer counts only from the site the command was sent to) and drops
        // the failure (not of the attempt it sent).
        var progressBefore = await StepsAsync();
        await channel.SendAsync(settings.EventsQueueFor(siteB), new MessageEnvelope(findA + "/b-failed", id, findA, siteB, now, MessageCodec.CurrentSchemaVersion, new CommandFailed("FindStudies", FailureReason.PacsUnreachable, "forged")), CancellationToken.None);
        await channel.SendAsync(settings.EventsQueueFor(siteB), new MessageEnvelope(findA + "/b-found", id, findA, siteB, now, MessageCodec.CurrentSchemaVersion, new StudiesFound([])), CancellationToken.None);
        await Scenario.WaitUntilAsync(async () => await StepsAsync() >= progressBefore + 1, "site B's answer applied (as ignored)");
        await Task.Delay(TimeSpan.FromSeconds(1)); // time for a wrongly applied failure to show
        Assert.Equal(progressBefore + 1, await StepsAsync());
        var afterOwnName = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.All(afterOwnName.State.Sites, site => Assert.Equal(SiteSearchStatus.Searching, site.Status));
        Assert.Equal(before.State.Version, afterOwnName.State.Version);

        // The same answer on A's own queue is A's relay speaking: applied.
        await channel.SendAsync(settings.EventsQueueFor(siteA), forged[0] with { MessageId = findA + "/StudiesFound-genuine" }, CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.State.SiteOf(siteA)?.Status == SiteSearchStatus.Searched);
    }
}
