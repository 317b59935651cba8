using Microsoft.DurableTask.Client;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Orchestrators.Tests;

/// <summary>
/// <see cref="RegistrationOrchestration"/> on the real Durable Task engine (in-process test host, in-memory backend):
/// external events, durable timers, activity outcomes, retries and continue-as-new, with fake activities. One class,
/// so the tests run one after another (each starts its own host, on a random port, and waits on real timers).
/// </summary>
public sealed class RegistrationOrchestrationTests
{
    private const string StudyA = "1.2.250.1.59.1";
    private const string StudyB = "1.2.250.1.59.2";
    private const string StudyC = "1.2.250.1.59.3";

    [Fact]
    public async Task Start_fans_out_to_every_site_then_the_answers_fan_in_to_a_candidate_list()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-fan-out";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b")));

        var findA = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        var findB = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-b", 1, 1));
        Assert.Equal("site-a", findA.Value.SiteId);
        Assert.Equal("site-b", findB.Value.SiteId);
        Assert.Equal(new DateOnly(1958, 4, 12), findA.Value.Query.BirthDate);
        Assert.Equal(2, harness.RelayCommands.Count(c => c.Value is FindStudiesActivity));

        var started = await harness.WaitForAuditAsync(AuditAction.RegistrationStarted);
        Assert.Equal(1, started.Sequence);
        Assert.Equal("sites=2", started.Detail);
        Assert.Equal(RegistrationStatus.Running, harness.StateRecordedWith(started).Status);

        await harness.RaiseAsync(TestData.Found(reg, "site-a", StudyA));
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA, StudyB));

        var ready = await harness.WaitForAuditAsync(AuditAction.CandidatesReady);
        var state = harness.StateRecordedWith(ready);
        Assert.Equal(RegistrationStatus.WaitingForSelection, state.Status);
        Assert.Equal([StudyA, StudyB], state.Candidates.Select(c => c.StudyInstanceUid));
        Assert.Equal(["site-a", "site-b"], state.Candidates[0].SiteIds.AsEnumerable());
        Assert.Equal("candidates=2 sitesAnswered=2 sites=2", ready.Detail);

        // One record per step, numbered 1, 2, 3… with no gap, in the order the steps were applied.
        var audit = harness.Audit;
        Assert.Equal(
            [AuditAction.RegistrationStarted, AuditAction.SiteSearched, AuditAction.SiteSearched, AuditAction.CandidatesReady],
            audit.Select(a => a.Action));
        Assert.Equal([1L, 2, 3, 4], audit.Select(a => a.Sequence));

        // Steps: the start, each site's search asking it (committed with the start), then the two answers.
        AssertCommitsUpTo(harness, version: 5);
        Assert.Equal(1, harness.Steps.Count(s => s.Value.Version <= 3));
    }

    [Fact]
    public async Task The_same_event_raised_twice_is_applied_once()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-duplicate";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b")));
        await harness.WaitForAuditAsync(AuditAction.RegistrationStarted);

        var answer = TestData.Found(reg, "site-a", StudyA);
        await harness.RaiseAsync(answer);
        await harness.RaiseAsync(answer);

        // Events are applied in the order they are raised: once site-b's answer fanned in, the duplicate was seen.
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyB));
        var ready = await harness.WaitForAuditAsync(AuditAction.CandidatesReady);

        Assert.Single(harness.Audit, a => a.Action == AuditAction.SiteSearched && a.SiteId == "site-a");
        Assert.Equal(2, harness.Audit.Count(a => a.Action == AuditAction.SiteSearched));

        // The duplicate changed nothing, not even the version: site-a's search had ended, and nothing else reads its answers.
        AssertCommitsUpTo(harness, version: 5);
        var state = harness.StateRecordedWith(ready);
        Assert.Single(state.ProcessedEventIds, id => id == answer.EventId);
        Assert.Equal([StudyA, StudyB], state.Candidates.Select(c => c.StudyInstanceUid));
    }

    [Fact]
    public async Task Selection_retrieval_and_store_make_the_study_available()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-store";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")));

        var manifest = await DriveToStoreAsync(harness, reg, StudyA);

        var stored = await harness.WaitForAuditAsync(AuditAction.StudyStored);
        var store = Assert.Single(harness.Stores).Value;
        Assert.Equal(CommandIds.Store(CommandIds.StudyTransfer(reg, StudyA, 1), 1), store.CommandId);
        Assert.Equal(StudyA, store.StudyInstanceUid);
        Assert.Equal(CommandIds.StagingPrefix(reg, StudyA), store.StagingPrefix);
        Assert.Equal(manifest, store.Manifest);

        Assert.Equal("instances=3 sentNow=3 verifiedByQido=3", stored.Detail);
        Assert.Equal("site-a", stored.SiteId);

        // The transfer audits its own steps in its own trail; the registration records the outcome.
        var transferId = CommandIds.StudyTransfer(reg, StudyA, 1);
        Assert.Equal(transferId, stored.Stream);
        Assert.Equal(
            [AuditAction.RetrievalStarted, AuditAction.RetrievalCompleted, AuditAction.StudyStored],
            harness.TransferAudit(transferId).Select(a => a.Action));
        Assert.Equal([1L, 2, 3], harness.TransferAudit(transferId).Select(a => a.Sequence));
        var state = await harness.WaitForStateAsync(s => s.SelectedOf(StudyA)?.Status == StudyStatus.Available, "the study available");
        var study = Assert.Single(state.Selected);
        Assert.Equal(StudyStatus.Available, study.Status);
        Assert.Equal(3, study.InstancesStored);
        Assert.Null(study.Failure);
        Assert.Equal(RegistrationStatus.Completed, state.Status);
    }

    [Fact]
    public async Task A_store_that_keeps_failing_is_given_up_after_its_retries()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        harness.StoreStudy = (_, _) => throw new InvalidOperationException("The DICOM service is down (test).");
        const string reg = "reg-it-store-gives-up";
        var retry = new ActivityRetrySettings(2, TimeSpan.FromSeconds(1), 1.0, TimeSpan.FromSeconds(1));
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")), retry);

        await DriveToStoreAsync(harness, reg, StudyA);

        var failed = await harness.WaitForAuditAsync(AuditAction.StudyStoreFailed);
        Assert.Equal(2, harness.StoreCalls);
        Assert.All(harness.Stores, s => Assert.Equal(CommandIds.Store(CommandIds.StudyTransfer(reg, StudyA, 1), 1), s.Value.CommandId));

        // The state machine prefixes its own code: "store_failed: gave_up_after_retries: Gave up after 2 failed attempts…".
        Assert.StartsWith("store_failed: " + ActivityOutcomes.GaveUpReasonCode + ": Gave up after 2 failed attempts", failed.Detail, StringComparison.Ordinal);
        Assert.Contains(nameof(InvalidOperationException), failed.Detail, StringComparison.Ordinal);
        Assert.Equal(AuditOutcome.SeriousFailure, failed.Outcome);

        var study = Assert.Single((await harness.WaitForStateAsync(s => s.SelectedOf(StudyA)?.Status == StudyStatus.Failed, "the study failed")).Selected);
        Assert.Equal("store_failed", study.Failure?.Code);
        Assert.StartsWith(ActivityOutcomes.GaveUpReasonCode, study.Failure?.SafeMessage, StringComparison.Ordinal);

        // Given up means given up: no third attempt afterwards.
        await Task.Delay(TimeSpan.FromSeconds(2), harness.Timeout);
        Assert.Equal(2, harness.StoreCalls);
    }

    [Fact]
    public async Task A_site_that_does_not_answer_is_asked_again_when_the_find_timeout_fires()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-find-timeout";
        var settings = OrchestrationSettings.Default with { FindTimeout = TimeSpan.FromSeconds(2) };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings));

        var started = await harness.WaitForAuditAsync(AuditAction.RegistrationStarted);
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA)); // site-a never answers

        var second = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 2));
        Assert.True(second.At - started.At >= settings.FindTimeout, $"The second attempt went out {second.At - started.At} after the start, before the timeout.");
        Assert.Equal("site-a", second.Value.SiteId);

        // Third attempt, then the burst is over: unreachable until the retry time, fan-in with site-b's answer.
        var unreachable = await harness.WaitForAuditAsync(AuditAction.SiteUnreachable, "site-a");
        Assert.Equal("reason=Timeout attempts=3", unreachable.Detail);
        var ready = await harness.WaitForAuditAsync(AuditAction.CandidatesReady);
        Assert.Equal("candidates=1 sitesAnswered=1 sites=2", ready.Detail);
        var site = harness.StateRecordedWith(ready).SiteOf("site-a")!;
        Assert.Equal(SiteSearchStatus.Unreachable, site.Status);
        Assert.Equal(unreachable.At + settings.UnreachableRetryInterval, site.NextAttemptAt);

        // site-b answered, so its own timeout timer was stale: it was asked once.
        var finds = harness.RelayCommands.Select(c => c.Value).OfType<FindStudiesActivity>().ToList();
        Assert.Equal(
            [CommandIds.Find(reg, "site-a", 1, 1), CommandIds.Find(reg, "site-a", 1, 2), CommandIds.Find(reg, "site-a", 1, 3)],
            finds.Where(f => f.SiteId == "site-a").Select(f => f.CommandId));
        Assert.Equal([CommandIds.Find(reg, "site-b", 1, 1)], finds.Where(f => f.SiteId == "site-b").Select(f => f.CommandId));
    }

    [Fact]
    public async Task Find_timeouts_due_at_the_same_instant_share_one_durable_timer_and_each_fires()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-shared-timeout";
        var settings = OrchestrationSettings.Default with { FindTimeout = TimeSpan.FromSeconds(2) };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings));

        // Neither site answers: the one timer armed for both timeouts asks each of them again.
        var secondA = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 2));
        var secondB = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-b", 1, 2));
        Assert.Equal("site-a", secondA.Value.SiteId);
        Assert.Equal("site-b", secondB.Value.SiteId);
        Assert.True(secondB.At - secondA.At < settings.FindTimeout, "the two sites were asked again by different firings");
    }

    [Fact]
    public async Task The_purge_timer_purges_and_the_orchestration_completes()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-purge";
        var purgeAt = DateTimeOffset.UtcNow.AddSeconds(5);

        // The site answers and its find timeout is short: no durable timer is still set at the purge.
        var settings = OrchestrationSettings.Default with { FindTimeout = TimeSpan.FromSeconds(2) };
        var plan = TestData.Plan(reg, TestData.Sites("site-a"), settings, meetingStartsAt: purgeAt, retentionDays: 0);
        Assert.Equal(purgeAt, plan.PurgeAt);
        await harness.StartRegistrationAsync(plan);
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        await harness.RaiseAsync(TestData.Found(reg, "site-a", StudyA));

        var completed = await WaitForCompletionAsync(harness);
        Assert.True(completed.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{completed.RuntimeStatus}: {completed.FailureDetails}");
        Assert.Equal("Purged", completed.ReadOutputAs<string>());

        var purge = Assert.Single(harness.Purges);
        Assert.True(purge.At >= purgeAt, $"Purged at {purge.At:O}, before the purge time {purgeAt:O}.");
        Assert.Equal(CommandIds.Purge(reg), purge.Value.CommandId);
        Assert.Equal(CommandIds.StagingRoot(reg), purge.Value.StagingRoot);
        Assert.Empty(purge.Value.StudyInstanceUids); // nothing was selected

        Assert.Equal(
            [AuditAction.RegistrationStarted, AuditAction.SiteSearched, AuditAction.CandidatesReady, AuditAction.PurgeStarted, AuditAction.Purged],
            harness.Audit.Select(a => a.Action));
        var purged = harness.Audit[^1];
        Assert.Equal("studies=0 stagingBlobs=3", purged.Detail);
        var state = harness.StateRecordedWith(purged);
        Assert.Equal(RegistrationStatus.Purged, state.Status);
        Assert.Empty(state.PendingRemovals);
    }

    [Fact]
    public async Task The_orchestration_completes_at_the_purge_even_while_a_find_timeout_is_still_set()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-purge-open-timer";
        var purgeAt = DateTimeOffset.UtcNow.AddSeconds(4);

        // site-a never answers: its 2-minute find timeout is still set when the purge has settled.
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a"), meetingStartsAt: purgeAt, retentionDays: 0));

        var completed = await WaitForCompletionAsync(harness);
        Assert.True(completed.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{completed.RuntimeStatus}: {completed.FailureDetails}");
        Assert.Equal("Purged", completed.ReadOutputAs<string>());
        Assert.Equal([AuditAction.RegistrationStarted, AuditAction.PurgeStarted, AuditAction.Purged], harness.Audit.Select(a => a.Action));
    }

    [Fact]
    public async Task Continue_as_new_keeps_the_state_and_later_events_still_apply()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-continue-as-new";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b", "site-c")), stepsPerHistory: 2);
        await harness.WaitForAuditAsync(AuditAction.RegistrationStarted);

        // Past 2 steps, but the sites' searches are asking: the history restarts only once they ended (or wait to ask again).
        await harness.RaiseAsync(TestData.Found(reg, "site-a", StudyA));
        await harness.WaitForAuditAsync(AuditAction.SiteSearched, "site-a");
        await Task.Delay(TimeSpan.FromSeconds(1), harness.Timeout);
        Assert.Null(await CarriedInputAsync(harness, minVersion: 2));

        // Back to back: site-c's answer may arrive while site-b's step runs; the restart comes after both.
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyB));
        await harness.RaiseAsync(TestData.Found(reg, "site-c", StudyA, StudyC));
        var ready = await harness.WaitForAuditAsync(AuditAction.CandidatesReady);
        Assert.Equal("candidates=3 sitesAnswered=3 sites=3", ready.Detail);
        Assert.Equal([StudyA, StudyB, StudyC], harness.StateRecordedWith(ready).Candidates.Select(c => c.StudyInstanceUid));
        var carried = await harness.WaitForResultAsync(() => CarriedInputAsync(harness, minVersion: 2), "a continue-as-new once every site answered");
        Assert.Equal([StudyA, StudyB, StudyC], RegistrationDocuments.ReadState(carried.StateDocument!).Candidates.Select(c => c.StudyInstanceUid));
        Assert.Empty(carried.PendingEvents);
        Assert.Equal([CommandIds.PurgeTimer(reg)], carried.Timers.Select(t => t.TimerId)); // the attempts' timeouts were the searches'

        // The transfers run as sub-orchestrations: the history restarts only once none is in flight.
        await harness.RaiseAsync(new SelectionMade(reg + "/selection-1", DateTimeOffset.UtcNow, [StudyA, StudyB, StudyC], "dr-barbe"));
        foreach (var uid in new[] { StudyA, StudyB, StudyC })
        {
            var retrieve = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(CommandIds.StudyTransfer(reg, uid, 1), 1));
            await harness.RaiseAsync(new RetrievalFinished(retrieve.Value.CommandId + "/finished", DateTimeOffset.UtcNow, retrieve.Value.SiteId, retrieve.Value.CommandId, uid, TestData.Manifest(reg, uid, 2)));
        }

        var secondRestart = await harness.WaitForResultAsync(
            async () => await CarriedInputAsync(harness, minVersion: 4) is { } input && RegistrationDocuments.ReadState(input.StateDocument!).Selected is { Length: 3 } selected && selected.All(s => s.Status == StudyStatus.Available) ? input : null,
            "a continue-as-new once the three studies are available");
        Assert.Equal(3, RegistrationDocuments.ReadState(secondRestart.StateDocument!).Candidates.Length);

        // Across two restarts: every step recorded once, audit sequence numbers without gap or repeat in each trail.
        var versions = harness.Steps.Select(s => s.Value.Version).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Distinct().Count(), versions.Count);
        var audit = harness.Audit;
        Assert.Equal(Enumerable.Range(1, audit.Count).Select(i => (long)i), audit.Select(a => a.Sequence));
        foreach (var uid in new[] { StudyA, StudyB, StudyC })
        {
            var trail = harness.TransferAudit(CommandIds.StudyTransfer(reg, uid, 1));
            Assert.Equal([1L, 2, 3], trail.Select(a => a.Sequence));
            Assert.Equal(AuditAction.RetrievalStarted, trail[0].Action);
        }
    }

    [Fact]
    public async Task An_event_that_arrives_while_the_last_step_before_a_restart_is_recorded_is_not_lost()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-restart-race";
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.BeforeRecordStep = async record =>
        {
            if (RegistrationDocuments.ReadState(record.StateDocument).SelectedOf(StudyA)?.Status == StudyStatus.Available)
            {
                held.TrySetResult();
                await release.Task.WaitAsync(harness.Timeout);
            }
        };

        // Steps: start, answer, selection, the transfer's outcome (4th: the history restarts after it).
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")), stepsPerHistory: 4);
        await DriveToStoreAsync(harness, reg, StudyA);

        // The transfer's outcome (4th step) is being recorded; the waiter for the next external event, created before the
        // outcome arrived, is still outstanding and takes the event raised now. The history restarts right after the step.
        try
        {
            await held.Task.WaitAsync(harness.Timeout);
            await harness.RaiseAsync(new RefreshRequested(reg + "/refresh-1", DateTimeOffset.UtcNow, "dr-barbe"));
            await Task.Delay(TimeSpan.FromSeconds(3), harness.Timeout); // let the event reach the orchestration
        }
        finally
        {
            release.TrySetResult();
        }

        var refreshed = await harness.WaitForAuditAsync(AuditAction.Refreshed, within: TimeSpan.FromSeconds(20));
        Assert.Equal("round=2", refreshed.Detail);
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 2, 1));
    }

    private static async Task<OrchestrationMetadata> WaitForCompletionAsync(OrchestrationHarness harness)
    {
        try
        {
            return await harness.Client.WaitForInstanceCompletionAsync(harness.RegistrationId, getInputsAndOutputs: true, harness.Timeout);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("The orchestration did not complete in time. " + await harness.DescribeAsync());
            throw;
        }
    }

    // start → answer → selection → RetrieveStudy → RetrievalFinished (3 instances): the orchestration starts StoreStudy.
    private static async Task<StagedInstanceListReference> DriveToStoreAsync(OrchestrationHarness harness, string reg, string uid)
    {
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        await harness.RaiseAsync(TestData.Found(reg, "site-a", uid));
        await harness.WaitForAuditAsync(AuditAction.CandidatesReady);

        await harness.RaiseAsync(new SelectionMade(reg + "/selection-1", DateTimeOffset.UtcNow, [uid], "dr-barbe"));
        var retrieve = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(CommandIds.StudyTransfer(reg, uid, 1), 1));
        Assert.Equal("site-a", retrieve.Value.SiteId);
        Assert.Equal(CommandIds.StagingPrefix(reg, uid), retrieve.Value.StagingPrefix);

        var manifest = TestData.Manifest(reg, uid, 3);
        await harness.RaiseAsync(new RetrievalFinished(retrieve.Value.CommandId + "/finished", DateTimeOffset.UtcNow, "site-a", retrieve.Value.CommandId, uid, manifest, "PACS_A", "RELAY_A"));
        return manifest;
    }

    // Commits carry strictly increasing versions up to the last step's; steps applied together share one commit, so a
    // version may be skipped (the audit sequence, asserted separately, has no gap).
    private static void AssertCommitsUpTo(OrchestrationHarness harness, long version)
    {
        var versions = harness.Steps.Select(s => s.Value.Version).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Distinct().Count(), versions.Count);
        Assert.Equal(version, versions[^1]);
    }

    // The input of the current execution once a continue-as-new carried a state of at least minVersion; null before.
    private static async Task<RegistrationOrchestrationInput?> CarriedInputAsync(OrchestrationHarness harness, long minVersion)
    {
        var input = await harness.CurrentInputAsync();
        return input.StateDocument is { } document && RegistrationDocuments.ReadState(document).Version >= minVersion ? input : null;
    }
}
