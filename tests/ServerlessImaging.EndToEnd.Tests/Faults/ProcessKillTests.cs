using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessImaging.Contracts;
using ServerlessImaging.EndToEnd.Tests.Support;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.LocalRun;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Faults;

/// <summary>
/// SIGKILL of the processes that carry a registration: a relay in the middle of a retrieval, the cloud app in the middle
/// of the orchestration (twice: while the sites are searched and while studies are retrieved). Each comes back with
/// the same settings; the registration must end with exactly the selected instances and a trail without duplicates.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed partial class ProcessKillTests(LocalStackFixture stack, FaultTable table)
{
    // 16 instances of 128x128x16-bit through a forwarder that delays each 16 KiB by 40 ms: about two seconds of
    // transfer, so a kill lands in the middle of it.
    private const int SlowInstances = 16;
    private const int SlowSize = 128;

    [Fact]
    public Task A_relay_killed_mid_retrieval_resumes_its_command_after_a_restart() => table.RunAsync(
        "kill -9 a relay mid-retrieval (C-GET)",
        "command redelivered after its lease, the retrieval resumes and stages only the missing instances; study Available, trail without a second attempt",
        async () =>
        {
            var pacs = SharedRig.Pacs(stack, "chu-nord");
            await using var slow = new LoopbackTcpForwarder(pacs.Port, TimeSpan.FromMilliseconds(40));
            var patient = TestPatient.New();
            var study = await patient.AddStudyAsync(pacs, SlowInstances, SlowSize);
            var site = RigSite.ByGet("nord", pacs with { Port = slow.Port }) with { RelaySettings = new() { ["Relay__UploadConcurrency"] = "1" } };
            await using var rig = await FaultRig.StartAsync(stack, "relay-kill", [site]);
            var flow = new RcpFlow(rig);

            var registrationId = await SelectThenKillRelayMidRetrievalAsync(rig, flow, site, patient, study);
            var stagedAtKill = await Checks.StagedBlobsAsync(rig, registrationId);
            Assert.InRange(stagedAtKill, 2, SlowInstances - 1);
            Assert.Equal("Retrieving", new RegistrationView(await flow.StatusAsync(registrationId)).Study(study.StudyInstanceUid).GetProperty("status").GetString());

            await rig.StartRelayAsync(site);
            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, [study], AuditExpectation.Completed(sites: 1, studies: 1));
            var log = rig.Log("relay-nord");
            Assert.Contains("delivery 2", log, StringComparison.Ordinal);

            // The resumed attempt took what the relay's journal recorded and fetched only the rest. The one upload in
            // flight (UploadConcurrency 1) may have been committed but not yet recorded when killed: fetched again, 409.
            var resumed = AlreadyStaged().Matches(log).Last();
            var already = int.Parse(resumed.Groups["already"].Value, CultureInfo.InvariantCulture);
            Assert.InRange(already, stagedAtKill - 1, SlowInstances - 1);
            Assert.Equal(SlowInstances - already, int.Parse(resumed.Groups["fetch"].Value, CultureInfo.InvariantCulture));
            return string.Create(CultureInfo.InvariantCulture, $"killed with {stagedAtKill}/{SlowInstances} instances staged; after restart the same command (delivery 2) found {already} already staged and staged the other {SlowInstances - already}; {outcome}");
        });

    [Fact]
    public Task A_retrieval_its_relay_dies_on_at_every_allowed_delivery_is_quarantined_and_the_study_moves_on() => table.RunAsync(
        "kill -9 a relay mid-retrieval when it allows one delivery per command (Relay__Channel__MaxDeliveries=1)",
        "the redelivered command is quarantined into relay-poison-<site> and answered as CommandFailed(Internal) for its registration; the study waits for its automatic retry instead of staying Retrieving, and the retry (a new command) completes it",
        async () =>
        {
            var pacs = SharedRig.Pacs(stack, "chu-nord");
            await using var slow = new LoopbackTcpForwarder(pacs.Port, TimeSpan.FromMilliseconds(40));
            var patient = TestPatient.New();
            var study = await patient.AddStudyAsync(pacs, SlowInstances, SlowSize);
            var site = RigSite.ByGet("nord", pacs with { Port = slow.Port }) with
            {
                RelaySettings = new() { ["Relay__UploadConcurrency"] = "1", ["Relay__Channel__MaxDeliveries"] = "1" },
            };
            var options = new RigOptions { AppSettings = { ["Orchestration__RetrievalRetryInterval"] = RetryInterval.ToString("c", CultureInfo.InvariantCulture) } };
            await using var rig = await FaultRig.StartAsync(stack, "relay-poison", [site], options);
            var flow = new RcpFlow(rig);

            var registrationId = await SelectThenKillRelayMidRetrievalAsync(rig, flow, site, patient, study);
            await rig.StartRelayAsync(site);

            // The only site holding the study failed it with the relay's reason: the study waits for its retry (a new
            // command, so a fresh delivery count at the relay), which resumes from the relay's journal and completes it.
            var audit = AuditExpectation.Completed(sites: 1, studies: 1)
                .Exactly("RetrievalStarted", 2).Exactly("StudyFailed", 1).Exactly("RetrievalRetryScheduled", 1);
            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, [study], audit, expectNoPoison: false);
            var failed = Assert.Single(await flow.AuditAsync(registrationId), r => AuditExpectation.Type(r) == "StudyFailed");
            Assert.Contains("Internal", failed.GetRawText(), StringComparison.Ordinal);

            // The command is kept whole in the site's poison queue, and nothing reached the events poison queue.
            var kept = Assert.Single(await Checks.PoisonAsync(rig, ResourceNames.PoisonQueueFor(site.SiteId)));
            Assert.Equal(PoisonReason.TooManyDeliveries, kept.Report.Reason);
            Assert.Equal(registrationId, kept.Report.CorrelationId);
            Assert.Equal("RetrieveStudy", kept.Report.Type);
            Assert.Empty(await Checks.PoisonAsync(rig, ResourceNames.PoisonQueueOf(rig.EventsQueueFor(site.SiteId))));
            return string.Create(CultureInfo.InvariantCulture, $"relay killed mid-retrieval, restarted; delivery 2 over the limit of 1: command quarantined ({kept.Report.Reason}) and reported for its registration; study retried by the timer ({RetryInterval.TotalSeconds:0} s) with a new command and Available; {outcome}");
        });

    // Registers the patient, selects the study, and kills the site's relay once 2 of its instances are staged.
    private static async Task<string> SelectThenKillRelayMidRetrievalAsync(FaultRig rig, RcpFlow flow, RigSite site, TestPatient patient, TestStudy study)
    {
        var registrationId = await flow.RegisterAsync(patient);
        await flow.WaitForCandidatesAsync(registrationId, 1);
        await flow.SelectAsync(registrationId, [study.StudyInstanceUid]);
        await Waiting.UntilAsync("the first instances in staging", TimeSpan.FromSeconds(60), async _ => await Checks.StagedBlobsAsync(rig, registrationId) >= 2, CancellationToken.None, TimeSpan.FromMilliseconds(20));
        await rig.KillRelayAsync(site);
        return registrationId;
    }

    // Automatic retry of a failed retrieval; the default is minutes.
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(3);

    [Fact]
    public Task The_app_killed_during_the_search_and_during_the_retrieval_finishes_the_registration_after_restarts() => table.RunAsync(
        "kill -9 the cloud app mid-orchestration (during the site search, then during retrieval)",
        "the restarted app's Durable Task engine resumes the orchestration from its history; relay answers sent meanwhile are applied; registration Completed",
        async () =>
        {
            var nord = SharedRig.Pacs(stack, "chu-nord");
            var sud = SharedRig.Pacs(stack, "clinique-sud");
            await using var slow = new LoopbackTcpForwarder(nord.Port, TimeSpan.FromMilliseconds(40));
            var patient = TestPatient.New();
            TestStudy[] studies = [await patient.AddStudyAsync(nord, SlowInstances, SlowSize), await patient.AddStudyAsync(sud, 2)];
            await using var rig = await FaultRig.StartAsync(stack, "app-kill", [RigSite.ByGet("nord", nord with { Port = slow.Port }), RigSite.ByGet("sud", sud)]);
            var flow = new RcpFlow(rig);

            var registrationId = await flow.RegisterAsync(patient);
            var atFirstKill = new RegistrationView(await flow.StatusAsync(registrationId));
            await rig.KillAppAsync();
            Assert.Equal("Running", atFirstKill.Status);
            await rig.StartAppAsync();
            await flow.WaitForCandidatesAsync(registrationId, 2);

            await flow.SelectAsync(registrationId, studies.Select(s => s.StudyInstanceUid));
            var retrieving = new RegistrationView(await flow.WaitForAsync(registrationId, "a study being retrieved", s => s.Studies.Any(x => x.GetProperty("status").GetString() == "Retrieving" && x.GetProperty("instancesDone").GetInt32() > 0)));
            await rig.KillAppAsync();
            await rig.StartAppAsync();

            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies, AuditExpectation.Completed(sites: 2, studies: 2));
            return string.Create(CultureInfo.InvariantCulture, $"killed at [{atFirstKill.Summary}] and at [{retrieving.Summary}]; {outcome}");
        });

    // The relay's "Retrieval <id>: 16 instances, 3 already staged, 13 to fetch by Get" line.
    [GeneratedRegex(@"(?<total>\d+) instances, (?<already>\d+) already staged, (?<fetch>\d+) to fetch")]
    private static partial Regex AlreadyStaged();
}
