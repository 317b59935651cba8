using Azure.Storage.Queues;
using Microsoft.DurableTask.Client;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// Whole registrations through the runtime hosted in-process (standalone workers: relay-events listener and sweep)
/// on the real stand-ins: Cosmos DB server, Azurite queues and blobs, Orthanc site PACS (C-FIND/C-GET by the
/// scripted relay) and Orthanc DICOMweb as the DICOM service.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class OrchestrationEndToEndTests(LocalStackFixture stack)
{
    private StackEndpoints Endpoints => stack.Endpoints;

    [Fact]
    public async Task A_registration_searches_the_site_waits_for_the_selection_and_stores_exactly_the_selected_study()
    {
        var pacs = Endpoints.Site("chu-nord");
        var patient = await PacsSeed.StoreAsync(pacs, 3, 2);
        var site = RuntimeSettings.NewSiteId("nord");
        var settings = new RuntimeSettings(Endpoints, [site]);
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true);
        await using var relay = ScriptedRelay.Start(Endpoints, site, pacs, settings.EventsQueueFor(site));
        var client = runtime.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        var started = await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
        Assert.Equal(new OrchestrationStartResult(id, true), started);
        Assert.Equal(new OrchestrationStartResult(id, false), await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None));
        Assert.Equal(new OrchestrationStartResult(id, false), await client.StartNewAsync(meeting, Scenario.Registration("other-" + id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None));

        var waiting = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
        Assert.Equal(patient.InstancesByStudy.Keys.Order(StringComparer.Ordinal), waiting.State.Candidates.Select(c => c.StudyInstanceUid).Order(StringComparer.Ordinal));
        Assert.Equal(SiteSearchStatus.Searched, Assert.Single(waiting.State.Sites).Status);
        Assert.All(waiting.State.Candidates, c => Assert.Equal([site], c.SiteIds.ToArray()));

        var chosen = patient.InstancesByStudy.First(kv => kv.Value.Count == 3);
        var other = patient.InstancesByStudy.Single(kv => kv.Key != chosen.Key);
        var raised = await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [chosen.Key], "u-1"), CancellationToken.None);
        Assert.Equal(DispositionKind.Applied, raised!.Disposition.Kind);
        var unknown = await client.RaiseEventAsync(id, new SelectionMade("sel2-" + id, DateTimeOffset.UtcNow, ["1.2.3.4.5.6.7.not-a-candidate"], "u-1"), CancellationToken.None);
        Assert.Equal(DispositionReason.UnknownStudy, unknown!.Disposition.Reason);
        Assert.Null(await client.RaiseEventAsync("reg-does-not-exist", new RefreshRequested("r-x", DateTimeOffset.UtcNow, "u-1"), CancellationToken.None));

        var done = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);
        var study = Assert.Single(done.State.Selected);
        Assert.Equal(StudyStatus.Available, study.Status);
        Assert.Equal(3, study.InstancesStored);
        Assert.Equal(new Uri("https://viewer.example.org/studies/" + chosen.Key), done.ViewerLinks[chosen.Key]);

        Assert.Equal(chosen.Value.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(Endpoints, chosen.Key));
        Assert.Empty(await Scenario.StoredInstancesAsync(Endpoints, other.Key));
        Assert.Empty(await Scenario.StagedBlobsAsync(Endpoints, id));

        // The registration's orchestration stays alive after completion: it still waits for the purge timer.
        var instance = await runtime.Get<DurableTaskClient>().GetInstanceAsync(id, getInputsAndOutputs: false);
        Assert.NotNull(instance);
        Assert.Equal(OrchestrationRuntimeStatus.Running, instance.RuntimeStatus);
    }

    [Fact]
    public async Task A_silent_site_becomes_unreachable_after_timed_out_attempts_while_the_other_site_answers()
    {
        var pacs = Endpoints.Site("clinique-sud");
        var patient = await PacsSeed.StoreAsync(pacs, 1);
        var live = RuntimeSettings.NewSiteId("sud");
        var silent = RuntimeSettings.NewSiteId("silent");
        // Three attempts of the silent site must outlast the live site's answer (a few queue hops through the engine).
        var settings = new RuntimeSettings(Endpoints, [live, silent]) { FindTimeout = TimeSpan.FromSeconds(4) };
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true);
        await using var relay = ScriptedRelay.Start(Endpoints, live, pacs, settings.EventsQueueFor(live));
        var client = runtime.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);

        var waiting = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
        var silentSite = waiting.State.SiteOf(silent)!;
        Assert.Equal(SiteSearchStatus.Unreachable, silentSite.Status);
        Assert.Equal(3, silentSite.Attempt);
        Assert.Equal(SiteSearchStatus.Searched, waiting.State.SiteOf(live)!.Status);
        Assert.Equal(patient.InstancesByStudy.Keys, waiting.State.Candidates.Select(c => c.StudyInstanceUid));
    }

    [Fact]
    public async Task Duplicate_stale_and_unknown_relay_messages_change_nothing_and_the_unknown_one_is_quarantined()
    {
        await using var rig = await OneSiteRig.StartAsync(Endpoints, "dup");
        var (runtime, client, settings, site) = (rig.Runtime, rig.Client, rig.Settings, rig.SiteId);
        var (id, waiting) = await rig.RegisterAsync();

        // The same answer again (same message id), through the real queue path.
        var findId = CommandIds.Find(id, site, 1, 1);
        var channel = ScriptedRelay.CreateChannel(Endpoints);
        var duplicate = new MessageEnvelope(findId + "/StudiesFound", id, findId, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new StudiesFound([]));
        await channel.SendAsync(settings.EventsQueueFor(site), duplicate, CancellationToken.None);

        // An answer to a command this registration never sent, and progress for a retrieval that is not in flight.
        var processor = runtime.Get<RelayEventProcessor>();
        var stale = duplicate with { MessageId = "stale-" + Guid.NewGuid().ToString("N"), CausationId = CommandIds.Find(id, site, 1, 7) };
        Assert.Equal(RelayEventOutcome.Handled, await processor.ProcessAsync(site, stale, CancellationToken.None));
        var progress = new MessageEnvelope("p-" + Guid.NewGuid().ToString("N"), id, CommandIds.Retrieve(CommandIds.StudyTransfer(id, "1.2.3", 1), 1), site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new RetrievalProgress("1.2.3", 1, 2, 10));
        Assert.Equal(RelayEventOutcome.Handled, await processor.ProcessAsync(site, progress, CancellationToken.None));

        // An event for a registration that does not exist goes to the poison queue, not round and round.
        var orphan = duplicate with { MessageId = "orphan-" + Guid.NewGuid().ToString("N"), CorrelationId = "reg-unknown-" + Guid.NewGuid().ToString("N") };
        await channel.SendAsync(settings.EventsQueueFor(site), orphan, CancellationToken.None);
        var poison = new QueueClient(Endpoints.Storage.ConnectionString, PoisonQueues.For(settings.EventsQueueFor(site)), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await Scenario.WaitUntilAsync(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(10)).Value.Any(m => m.Body.ToString().Contains(orphan.MessageId, StringComparison.Ordinal)), "the orphan event in the poison queue");

        // The duplicate was consumed (the events queue drains) and left the candidates as they were.
        var events = new QueueClient(Endpoints.Storage.ConnectionString, settings.EventsQueueFor(site));
        await Scenario.WaitUntilAsync(async () => (await events.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the events queue drained");
        var after = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.Equal(waiting.State.Candidates.Select(c => c.StudyInstanceUid), after.State.Candidates.Select(c => c.StudyInstanceUid));
        Assert.Equal(RegistrationStatus.WaitingForSelection, after.Status);

        // The orchestration counts every step it applied (its custom status): nothing for the duplicate nor the stale
        // answer (the site's search, the only reader of the site's answers, ended with the first one), nor for the
        // progress, which names a transfer that never ran and is dropped before any orchestration sees it.
        var durable = runtime.Get<DurableTaskClient>();
        async Task<long> StepsAsync() => (await durable.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadCustomStatusAs<RegistrationProgress>()!.Version;
        await Task.Delay(TimeSpan.FromSeconds(2)); // time for a wrongly applied event to show
        Assert.Equal(waiting.State.Version, await StepsAsync());
    }

    [Fact]
    public async Task A_study_that_disappears_from_the_pacs_between_find_and_retrieve_fails_with_a_reason()
    {
        await using var rig = await OneSiteRig.StartAsync(Endpoints, "gone");
        rig.Relay.BeforeRetrieve = uid => PacsSeed.DeleteFromOrthancAsync(rig.Pacs, uid);
        var client = rig.Client;
        var (id, _) = await rig.RegisterAsync();

        var uid = rig.Patient.InstancesByStudy.Keys.Single();
        await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [uid], "u-1"), CancellationToken.None);
        var done = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);
        var study = Assert.Single(done.State.Selected);
        Assert.Equal(StudyStatus.Failed, study.Status);
        Assert.NotNull(study.Failure);
        Assert.Contains(study.Failure.Code, new[] { "pacs_rejected", "study_not_found" }); // permanent: failed at once, not retried
        Assert.Empty(await Scenario.StoredInstancesAsync(Endpoints, uid));
    }

    [Fact]
    public async Task After_the_retention_purge_the_orchestration_ends_and_its_history_is_purged_from_the_task_hub()
    {
        await using var rig = await OneSiteRig.StartAsync(Endpoints, "retention");
        var (runtime, client) = (rig.Runtime, rig.Client);
        var durable = runtime.Get<DurableTaskClient>();

        // A meeting held a day ago with one day of retention, less 20 s: the purge timer falls due 20 s from now.
        var (id, _) = await rig.RegisterAsync(meeting => meeting with { StartsAt = DateTimeOffset.UtcNow.AddDays(-1).AddSeconds(20), RetentionDays = 1 });
        var uid = rig.Patient.InstancesByStudy.Keys.Single();
        await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [uid], "u-1"), CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);
        Assert.NotEmpty(await Scenario.StoredInstancesAsync(Endpoints, uid));

        // The purge removes the working copy; once its activity reported back, the orchestration is over.
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Purged, TimeSpan.FromSeconds(90));
        await Scenario.WaitUntilAsync(async () => (await durable.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationRuntimeStatus.Completed, "the orchestration completed");
        Assert.Empty(await Scenario.StoredInstancesAsync(Endpoints, uid));

        // Its history and its study transfer's (the plan, patient identity included) go from the task hub; the read
        // model and audit trail stay.
        Assert.Equal(2, await runtime.Get<SettledRegistrationPurge>().RunOnceAsync(CancellationToken.None));
        Assert.Null(await durable.GetInstanceAsync(id));
        Assert.Null(await durable.GetInstanceAsync(CommandIds.StudyTransfer(id, uid, 1)));
        Assert.Equal(RegistrationStatus.Purged, (await client.GetStatusAsync(id, CancellationToken.None))!.Status);
        Assert.Equal(0, await runtime.Get<SettledRegistrationPurge>().RunOnceAsync(CancellationToken.None));
    }

    /// <summary>One site (chu-nord's Orthanc behind a scripted relay), a one-instance patient, the runtime with its workers.</summary>
    private sealed class OneSiteRig : IAsyncDisposable
    {
        private OneSiteRig(SitePacs pacs, SeededPatient patient, RuntimeSettings settings, RuntimeHarness runtime, ScriptedRelay relay)
        {
            (Pacs, Patient, Settings, Runtime, Relay) = (pacs, patient, settings, runtime, relay);
            Client = runtime.Get<IRegistrationOrchestrationClient>();
        }

        public SitePacs Pacs { get; }

        public SeededPatient Patient { get; }

        public RuntimeSettings Settings { get; }

        public string SiteId => Settings.SiteIds[0];

        public RuntimeHarness Runtime { get; }

        public ScriptedRelay Relay { get; }

        public IRegistrationOrchestrationClient Client { get; }

        public static async Task<OneSiteRig> StartAsync(StackEndpoints endpoints, string purpose)
        {
            var pacs = endpoints.Site("chu-nord");
            var patient = await PacsSeed.StoreAsync(pacs, 1);
            var settings = new RuntimeSettings(endpoints, [RuntimeSettings.NewSiteId(purpose)]);
            var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true);
            return new OneSiteRig(pacs, patient, settings, runtime, ScriptedRelay.Start(endpoints, settings.SiteIds[0], pacs, settings.EventsQueueFor(settings.SiteIds[0])));
        }

        /// <summary>Registers the patient (to a meeting <paramref name="adjust"/> may change) and waits for the candidate list.</summary>
        public async Task<(string Id, RegistrationInstanceStatus Waiting)> RegisterAsync(Func<Meeting, Meeting>? adjust = null)
        {
            var id = Scenario.NewRegistrationId();
            var meeting = (adjust ?? (m => m))(Scenario.Meeting("rcp-" + id));
            await Client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, Patient.Identity), "key-" + id, CancellationToken.None);
            return (id, await Scenario.WaitForAsync(Client, id, s => s.Status == RegistrationStatus.WaitingForSelection));
        }

        public async ValueTask DisposeAsync()
        {
            await Relay.DisposeAsync();
            await Runtime.DisposeAsync();
        }
    }
}
