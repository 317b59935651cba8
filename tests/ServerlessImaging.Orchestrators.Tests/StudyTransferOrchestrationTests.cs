using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Tests;

/// <summary>
/// A selected study's transfer (<see cref="Transfers.StudyTransferOrchestration"/>), a sub-orchestration of its registration,
/// on the real Durable Task engine (in-process test host): sites in turn, rounds on a durable timer, stores while
/// retrieving, answers that are not its own ignored, cancellation by a deletion and the late store it may leave.
/// </summary>
public sealed class StudyTransferOrchestrationTests
{
    private const string Study = "1.2.250.1.59.7";

    [Fact]
    public async Task Every_site_failing_transiently_waits_for_the_next_round_which_succeeds()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-rounds";
        var settings = OrchestrationSettings.Default with { RetrievalRetryInterval = TimeSpan.FromSeconds(2), MaxRetrievalRounds = 2 };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings));
        await SelectAsync(harness, reg, "site-a", "site-b");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);

        // Round 1: site-a (both answered; ordered by id), then site-b, each unreachable.
        var first = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1));
        Assert.Equal("site-a", first.Value.SiteId);
        await harness.RaiseAsync(Failed(first.Value, FailureReason.PacsUnreachable));
        var second = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 2));
        Assert.Equal("site-b", second.Value.SiteId);
        await harness.RaiseAsync(Failed(second.Value, FailureReason.Timeout));

        var scheduled = await harness.WaitForAuditAsync(AuditAction.RetrievalRetryScheduled);
        Assert.StartsWith("timeout: every site holding the study failed; round 2 of 2 at ", scheduled.Detail, StringComparison.Ordinal);
        var waiting = harness.TransferSteps.Last(s => s.Value.TransferId == transferId).Value.Progress;
        Assert.Equal(StudyStatus.Pending, waiting.Status);
        Assert.NotNull(waiting.NextAttemptAt);

        // Round 2 starts on the durable timer, at site-a again, and succeeds.
        var third = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 3));
        Assert.Equal("site-a", third.Value.SiteId);
        Assert.True(third.At - scheduled.RecordedAt >= TimeSpan.FromSeconds(1.5), "The next round waited for its timer.");
        await harness.RaiseAsync(Finished(third.Value, reg, 2));
        var state = await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Available, "the study available");
        Assert.Equal(2, state.SelectedOf(Study)!.InstancesStored);

        Assert.Equal(
            [
                AuditAction.RetrievalStarted, AuditAction.StudyFailed, AuditAction.RetrievalStarted, AuditAction.StudyFailed,
                AuditAction.RetrievalRetryScheduled, AuditAction.RetrievalStarted, AuditAction.RetrievalCompleted, AuditAction.StudyStored,
            ],
            harness.TransferAudit(transferId).Select(a => a.Action));
        Assert.Equal("attempt=3 round=2", harness.TransferAudit(transferId)[5].Detail);
        Assert.All(harness.TransferAudit(transferId), a => Assert.Equal(transferId, a.Stream));
    }

    [Fact]
    public async Task Selecting_a_study_again_while_its_transfer_waits_for_the_next_round_starts_that_round_now()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-retry-now";
        var settings = OrchestrationSettings.Default with { RetrievalRetryInterval = TimeSpan.FromMinutes(10), MaxRetrievalRounds = 3 };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a"), settings));
        await SelectAsync(harness, reg, "site-a");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);

        // Selected again while retrieving: nothing to hurry; the request is stale by the time the transfer waits.
        await harness.RaiseAsync(new SelectionMade(reg + "/selection-2", DateTimeOffset.UtcNow, [Study], "dr-barbe"));
        await harness.WaitForAsync(() => harness.AllAudit.Count(a => a.Action == AuditAction.SelectionMade) == 2 ? "seen" : null, "the second selection applied");
        await harness.RaiseAsync(Failed((await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1))).Value, FailureReason.PacsUnreachable));
        await harness.WaitForAuditAsync(AuditAction.RetrievalRetryScheduled);
        await Task.Delay(TimeSpan.FromSeconds(1), harness.Timeout);
        Assert.DoesNotContain(harness.RelayCommands, c => c.Value.CommandId == CommandIds.Retrieve(transferId, 2));

        // Selected again while waiting ten minutes for round 2: round 2 starts now.
        await harness.RaiseAsync(new SelectionMade(reg + "/selection-3", DateTimeOffset.UtcNow, [Study], "dr-barbe"));
        var second = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 2));
        await harness.RaiseAsync(Finished(second.Value, reg, 2));
        await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Available, "the study available");
        Assert.Equal("attempt=2 round=2", harness.TransferAudit(transferId).Single(a => a.Action == AuditAction.RetrievalStarted && a.Detail.StartsWith("attempt=2", StringComparison.Ordinal)).Detail);
    }

    [Fact]
    public async Task Transient_failures_in_every_round_fail_the_study_after_the_last_round()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-rounds-out";
        var settings = OrchestrationSettings.Default with { RetrievalRetryInterval = TimeSpan.FromSeconds(1), MaxRetrievalRounds = 2 };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a"), settings));
        await SelectAsync(harness, reg, "site-a");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);

        await harness.RaiseAsync(Failed((await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1))).Value, FailureReason.PacsUnreachable));
        await harness.RaiseAsync(Failed((await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 2))).Value, FailureReason.PacsUnreachable));

        var state = await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Failed, "the study failed");
        Assert.Equal("pacs_unreachable", state.SelectedOf(Study)!.Failure?.Code);
        var trail = harness.TransferAudit(transferId);
        Assert.Equal(
            [AuditAction.RetrievalStarted, AuditAction.StudyFailed, AuditAction.RetrievalRetryScheduled, AuditAction.RetrievalStarted, AuditAction.StudyFailed, AuditAction.StudyFailed],
            trail.Select(a => a.Action));
        Assert.Equal((AuditOutcome.SeriousFailure, "pacs_unreachable rounds=2"), (trail[^1].Outcome, trail[^1].Detail));
        Assert.Single(trail, a => a.Action == AuditAction.RetrievalRetryScheduled);
    }

    [Fact]
    public async Task A_site_returning_no_instance_is_followed_by_the_next_site()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-empty";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b")));
        await SelectAsync(harness, reg, "site-a", "site-b");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);

        var first = (await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1))).Value;
        await harness.RaiseAsync(Finished(first, reg, 0));
        var second = (await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 2))).Value;
        Assert.Equal("site-b", second.SiteId);
        await harness.RaiseAsync(Finished(second, reg, 2));

        await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Available, "the study available");
        var empty = Assert.Single(harness.TransferAudit(transferId), a => a.Action == AuditAction.StudyFailed);
        Assert.Equal(("site-a", AuditOutcome.MinorFailure, "Retrieval returned no instance."), (empty.SiteId, empty.Outcome, empty.Detail));
        Assert.Equal("site-b", harness.LatestState.SelectedOf(Study)!.SiteId);
    }

    [Fact]
    public async Task A_permanent_failure_at_the_last_site_fails_the_study_without_another_round()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-permanent";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")));
        await SelectAsync(harness, reg, "site-a");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);

        var retrieve = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1));
        await harness.RaiseAsync(Failed(retrieve.Value, FailureReason.PacsRejected));

        var state = await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Failed, "the study failed");
        Assert.Equal("pacs_rejected", state.SelectedOf(Study)!.Failure?.Code);
        Assert.Equal(RegistrationStatus.Completed, state.Status);
        var failed = harness.TransferAudit(transferId)[^1];
        Assert.Equal((AuditAction.StudyFailed, AuditOutcome.SeriousFailure, "pacs_rejected"), (failed.Action, failed.Outcome, failed.Detail));
        Assert.DoesNotContain(harness.AllAudit, a => a.Action == AuditAction.RetrievalRetryScheduled);
        Assert.Equal(0, harness.StoreCalls);
    }

    [Fact]
    public async Task Staged_batches_are_stored_while_the_rest_is_retrieved_and_answers_not_its_own_are_ignored()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-pipelined";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b")));
        await SelectAsync(harness, reg, "site-a", "site-b");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);
        var retrieve = (await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1))).Value;

        // site-b speaking for site-a's retrieval, and an answer to a retrieval never sent: both ignored.
        await harness.RaiseAsync(new RetrievalFinished("forged", DateTimeOffset.UtcNow, "site-b", retrieve.CommandId, Study, TestData.Manifest(reg, Study, 1)));
        await harness.RaiseAsync(new RelayCommandFailed("stale", DateTimeOffset.UtcNow, "site-a", CommandIds.Retrieve(transferId, 9), FailureReason.PacsRejected, "x"));

        var batch = TestData.Manifest(reg, Study, 2);
        await harness.RaiseAsync(new RetrievalProgressed("progress-1", DateTimeOffset.UtcNow, "site-a", retrieve.CommandId, Study, 2, 4, 2000, batch));
        var staged = await harness.WaitForAsync(() => harness.OtherActivities.Select(a => a.Value).OfType<StoreStagedInstancesActivity>().FirstOrDefault(), "the staged batch stored");
        Assert.Equal(CommandIds.StoreStaged(transferId, 1, 1), staged.CommandId);
        Assert.Equal(batch, staged.Instances);
        var progress = await harness.WaitForAsync(() => harness.TransferSteps.Select(s => s.Value.Progress).FirstOrDefault(p => p.InstancesDone == 2), "progress 2 of 4");
        Assert.Equal((StudyStatus.Retrieving, 4, 2000L, "site-a"), (progress.Status, progress.InstancesTotal, progress.BytesDone, progress.SiteId));
        Assert.Equal(0, harness.StoreCalls);

        await harness.RaiseAsync(Finished(retrieve, reg, 4));
        await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Available, "the study available");
        Assert.Single(harness.Stores);
        Assert.DoesNotContain(harness.RelayCommands, c => c.Value is RetrieveStudyActivity { SiteId: "site-b" });
    }

    [Fact]
    public async Task Deleting_a_study_in_transfer_cancels_its_retrieval_and_removes_it_again_after_a_store_that_may_have_run()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-deleted";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")));
        await SelectAsync(harness, reg, "site-a");
        var transferId = CommandIds.StudyTransfer(reg, Study, 1);
        var retrieve = (await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(transferId, 1))).Value;

        // A batch was stored before the deletion: the DICOM service may hold part of the study after the first removal.
        await harness.RaiseAsync(new RetrievalProgressed("progress-1", DateTimeOffset.UtcNow, "site-a", retrieve.CommandId, Study, 1, 3, 1000, TestData.Manifest(reg, Study, 1)));
        await harness.WaitForAsync(() => harness.OtherActivities.Select(a => a.Value).OfType<StoreStagedInstancesActivity>().FirstOrDefault(), "the staged batch stored");
        await harness.RaiseAsync(new StudyDeleteRequested(reg + "/delete-1", DateTimeOffset.UtcNow, Study, "dr-barbe"));

        var cancel = await harness.WaitForRelayCommandAsync<CancelRelayCommand>(CommandIds.Cancel(retrieve.CommandId));
        Assert.Equal("site-a", cancel.Value.SiteId);
        var again = await harness.WaitForAsync(
            () => harness.OtherActivities.Select(a => a.Value).OfType<DeleteStudyActivity>().FirstOrDefault(d => d.CommandId == CommandIds.DeleteAfterLateStore(reg, Study, 1)),
            "the study removed again");
        Assert.Equal(CommandIds.StagingPrefix(reg, Study), again.StagingPrefix);
        Assert.Contains(harness.OtherActivities, a => a.Value.CommandId == CommandIds.Delete(reg, Study, 1));
        Assert.Equal(StudyStatus.Deleted, harness.LatestState.SelectedOf(Study)!.Status);

        // An answer after the cancellation changes nothing.
        await harness.RaiseAsync(Finished(retrieve, reg, 3));
        await Task.Delay(TimeSpan.FromSeconds(1), harness.Timeout);
        Assert.Equal(0, harness.StoreCalls);
        Assert.Equal(StudyStatus.Deleted, harness.LatestState.SelectedOf(Study)!.Status);
    }

    [Fact]
    public async Task A_study_selected_again_after_it_failed_gets_a_new_transfer()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-transfer-again";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a")));
        await SelectAsync(harness, reg, "site-a");
        var first = (await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(CommandIds.StudyTransfer(reg, Study, 1), 1))).Value;
        await harness.RaiseAsync(new RetrievalFinished(first.CommandId + "/finished", DateTimeOffset.UtcNow, "site-a", first.CommandId, Study, TestData.Manifest(reg, Study, 0)));
        var failed = await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Failed, "the study failed (empty)");
        Assert.Equal("empty_study", failed.SelectedOf(Study)!.Failure?.Code);

        await harness.RaiseAsync(new SelectionMade(reg + "/selection-2", DateTimeOffset.UtcNow, [Study], "dr-barbe"));
        var second = await harness.WaitForRelayCommandAsync<RetrieveStudyActivity>(CommandIds.Retrieve(CommandIds.StudyTransfer(reg, Study, 2), 1));
        await harness.RaiseAsync(Finished(second.Value, reg, 2));
        await harness.WaitForStateAsync(s => s.SelectedOf(Study)?.Status == StudyStatus.Available, "the study available");
    }

    private static async Task SelectAsync(OrchestrationHarness harness, string reg, params string[] sites)
    {
        await harness.WaitForAuditAsync(AuditAction.RegistrationStarted);
        foreach (var site in sites)
        {
            await harness.RaiseAsync(TestData.Found(reg, site, Study));
        }

        await harness.WaitForAuditAsync(AuditAction.CandidatesReady);
        await harness.RaiseAsync(new SelectionMade(reg + "/selection-1", DateTimeOffset.UtcNow, [Study], "dr-barbe"));
    }

    private static RelayCommandFailed Failed(RetrieveStudyActivity retrieve, FailureReason reason) =>
        new(retrieve.CommandId + "/failed", DateTimeOffset.UtcNow, retrieve.SiteId, retrieve.CommandId, reason, "safe message");

    private static RetrievalFinished Finished(RetrieveStudyActivity retrieve, string reg, int count) =>
        new(retrieve.CommandId + "/finished", DateTimeOffset.UtcNow, retrieve.SiteId, retrieve.CommandId, Study, TestData.Manifest(reg, Study, count), "PACS", "RELAY");
}
