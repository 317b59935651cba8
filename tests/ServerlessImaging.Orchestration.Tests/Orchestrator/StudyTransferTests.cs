using System.Text.Json;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>
/// What the registration's state machine still decides about a selected study's transfer (a sub-orchestration, tested
/// on the real engine in Orchestrators.Tests): when one starts and with what, when it is cancelled, which outcome it
/// records, and that the retrieval's own answers are no longer its business.
/// </summary>
public class StudyTransferTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";

    private static readonly StudyFailure Unreachable = new("pacs_unreachable", "No PACS answered.");

    [Fact]
    public void A_selection_starts_one_transfer_per_study_carrying_the_plans_rounds_interval_patient_and_key()
    {
        var settings = OrchestrationSettings.Default with { MaxRetrievalRounds = 2, RetrievalRetryInterval = TimeSpan.FromSeconds(30) };
        var h = new Harness(Fixtures.Plan() with { Settings = settings });
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));

        var selected = h.Select(Uid2, Uid1);

        var transfers = h.Commands<StartStudyTransfer>();
        Assert.Equal([Harness.Transfer(Uid1), Harness.Transfer(Uid2)], transfers.Select(t => t.CommandId));
        foreach (var transfer in transfers)
        {
            var input = transfer.Input;
            Assert.Equal((transfer.CommandId, Fixtures.RegistrationId, Fixtures.RegistrationId), (input.TransferId, input.RegistrationId, transfer.RegistrationId));
            Assert.Equal(["chu-nord"], input.SiteIds.ToArray());
            Assert.Equal((Fixtures.Patient(), "pk1-test"), (input.Patient, input.PatientKey));
            Assert.Equal((2, TimeSpan.FromSeconds(30)), (input.MaxRounds, input.RetryInterval));

            var study = h.Study(input.StudyInstanceUid);
            Assert.Equal((StudyStatus.Retrieving, "chu-nord", 1, input.TransferId), (study.Status, study.SiteId, study.Attempt, study.CurrentCommandId));
            Assert.Null(study.Failure);
            Assert.Null(study.NextAttemptAt);
        }

        // The transfer retrieves, stores, retries and audits all that in its own trail: here only the selection is recorded.
        Assert.Equal(AuditAction.SelectionMade, Assert.Single(selected.Commands.OfType<WriteAuditActivity>()).Action);
        Assert.Empty(selected.Commands.OfType<RetrieveStudyActivity>());
        Assert.Empty(selected.Commands.OfType<StartDurableTimer>());
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
    }

    [Fact]
    public void The_transfers_closing_records_are_committed_with_its_outcome_whatever_the_registration_makes_of_it()
    {
        var h = Harness.Transferring(null, Uid1);
        var transferId = Harness.Transfer(Uid1);
        WriteAuditActivity Closing(long sequence) =>
            new(CommandIds.TransferAudit(transferId, sequence), Fixtures.RegistrationId, h.Now, AuditAction.StudyStored, AuditOutcome.Success, "pk", null, "chu-nord", Uid1, "instances=2")
            {
                Stream = transferId,
                Sequence = sequence,
                RecordedAt = h.Now,
            };

        h.Settled(Harness.Outcome(Uid1, StudyTransferResult.Available, stored: 2) with { ClosingAudit = [Closing(3)] });
        var written = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((transferId, 3L, AuditAction.StudyStored), (written.Stream, written.Sequence, written.Action));
        Assert.Equal(StudyStatus.Available, h.Study(Uid1).Status);

        // A stale outcome (an older transfer's) still carries facts of that transfer's trail.
        h.Settled(Harness.Outcome(Uid1, StudyTransferResult.Failed, n: 7) with { ClosingAudit = [Closing(4) with { Action = AuditAction.StudyFailed }] });
        Assert.Equal(DispositionKind.Ignored, h.Last.Disposition.Kind);
        Assert.Equal(AuditAction.StudyFailed, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
    }

    [Fact]
    public void The_sites_are_tried_those_that_answered_the_current_round_first_then_by_id()
    {
        var h = new Harness();
        h.Found("clinique-sud", studies: Fixtures.Study(Uid1));
        h.Found("ch-est", studies: Fixtures.Study(Uid1));
        h.Found("chu-nord", studies: Fixtures.Study(Uid1));
        h.Select(Uid1);
        Assert.Equal(["ch-est", "chu-nord", "clinique-sud"], Assert.Single(h.Commands<StartStudyTransfer>()).Input.SiteIds.ToArray());
        Assert.Equal("ch-est", h.Study(Uid1).SiteId);
        h.TransferFailed(Uid1, Unreachable, site: "clinique-sud");

        // A refresh: clinique-sud has answered round 2, the others not yet; chu-nord is unreachable.
        h.Refresh();
        h.Found("clinique-sud", round: 2, studies: Fixtures.Study(Uid1));
        h.Attempt("chu-nord", 2, inBurst: 2, previousFailure: FailureReason.PacsUnreachable);
        h.Attempt("chu-nord", 3, inBurst: 3, previousFailure: FailureReason.PacsUnreachable);
        h.GaveUp("chu-nord", 3, FailureReason.PacsUnreachable, h.Now.AddMinutes(10));

        Assert.Equal(SiteSearchStatus.Unreachable, h.Site("chu-nord").Status);
        h.Select(Uid1);
        var again = Assert.Single(h.Commands<StartStudyTransfer>());
        Assert.Equal(["clinique-sud", "ch-est", "chu-nord"], again.Input.SiteIds.ToArray());
        Assert.Equal(("clinique-sud", Harness.Transfer(Uid1, 2)), (h.Study(Uid1).SiteId, again.CommandId));
    }

    [Fact]
    public void A_failed_study_selected_again_starts_the_next_transfer_with_its_failure_cleared()
    {
        var h = Harness.Transferring(null, Uid1);
        for (var n = 1; n <= 3; n++)
        {
            h.TransferFailed(Uid1, Unreachable, n);
            Assert.Equal((StudyStatus.Failed, "pacs_unreachable", n), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code, h.Study(Uid1).Attempt));
            Assert.Equal(RegistrationStatus.Completed, h.State.Status);

            h.Select(Uid1);
            var next = Assert.Single(h.Commands<StartStudyTransfer>());
            Assert.Equal(Harness.Transfer(Uid1, n + 1), next.CommandId);
            var study = h.Study(Uid1);
            Assert.Equal((StudyStatus.Retrieving, n + 1, next.CommandId), (study.Status, study.Attempt, study.CurrentCommandId));
            Assert.Null(study.Failure);
            Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
        }

        h.Available(Uid1, n: 4);
        Assert.Equal((StudyStatus.Available, 4), (h.Study(Uid1).Status, h.Study(Uid1).Attempt));
    }

    [Fact]
    public void Deleting_a_study_in_transfer_cancels_the_transfer_deletes_it_and_a_new_selection_starts_the_next_transfer()
    {
        var h = Harness.Transferring(null, Uid1);

        var deleted = h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid1, "dr-barbe"));

        Assert.Equal(
            [typeof(CancelStudyTransfer), typeof(DeleteStudyActivity), typeof(WriteAuditActivity)],
            deleted.Commands.Select(c => c.GetType()));
        var cancel = Assert.Single(h.Commands<CancelStudyTransfer>());
        Assert.Equal((CommandIds.Cancel(Harness.Transfer(Uid1)), Fixtures.RegistrationId, Harness.Transfer(Uid1)), (cancel.CommandId, cancel.RegistrationId, cancel.TransferId));
        Assert.Equal(CommandIds.Delete(Fixtures.RegistrationId, Uid1, 1), Assert.Single(h.Commands<DeleteStudyActivity>()).CommandId);
        Assert.Empty(h.Commands<CancelRelayCommand>()); // the transfer cancels its own retrieval
        Assert.Equal((StudyStatus.Deleted, (string?)null), (h.Study(Uid1).Status, h.Study(Uid1).CurrentCommandId));

        // Settled for the registration as soon as it is deleted, before the transfer reports how it stopped.
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
        Assert.Equal(DispositionReason.Stale, h.TransferCancelled(Uid1).Disposition.Reason);
        Assert.Empty(h.Last.Commands);

        h.Select(Uid1);
        Assert.Equal(Harness.Transfer(Uid1, 2), Assert.Single(h.Commands<StartStudyTransfer>()).CommandId);
        h.Apply(new StudyDeleteRequested("del-2", h.Now, Uid1, "dr-barbe"));
        Assert.Equal(Harness.Transfer(Uid1, 2), Assert.Single(h.Commands<CancelStudyTransfer>()).TransferId);
        Assert.Equal(CommandIds.Delete(Fixtures.RegistrationId, Uid1, 2), Assert.Single(h.Commands<DeleteStudyActivity>()).CommandId);
    }

    [Fact]
    public void Selecting_a_study_in_transfer_or_available_again_starts_no_transfer_and_hurries_the_one_in_flight()
    {
        var h = Harness.Transferring(null, Uid1, Uid2);
        h.Available(Uid2);
        var before = (h.Study(Uid1), h.Study(Uid2));

        var again = h.Select(Uid1, Uid2);

        Assert.Equal(DispositionKind.Applied, again.Disposition.Kind);
        Assert.Empty(again.Commands.OfType<StartStudyTransfer>());
        Assert.Equal(AuditAction.SelectionMade, Assert.Single(again.Commands.OfType<WriteAuditActivity>()).Action);

        // The transfer in flight is asked to start its next round now, if it waits for one; the available study is left alone.
        var hurry = Assert.Single(again.Commands.OfType<RetryStudyTransferNow>());
        Assert.Equal(Harness.Transfer(Uid1), hurry.TransferId);
        Assert.Equal(2, again.Commands.Length);
        Assert.Equal(before, (h.Study(Uid1), h.Study(Uid2)));
    }

    [Fact]
    public void The_purge_cancels_every_transfer_in_flight_and_only_those()
    {
        var h = Harness.Transferring(null, Uid1, Uid2, "1.2.250.1.3", "1.2.250.1.4");
        h.Available(Uid2);
        h.TransferFailed("1.2.250.1.3", Unreachable);
        h.Apply(new StudyDeleteRequested("del", h.Now, "1.2.250.1.4", "dr-barbe"));

        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));

        Assert.Equal([Harness.Transfer(Uid1)], h.Commands<CancelStudyTransfer>().Select(c => c.TransferId));
        Assert.Empty(h.Commands<CancelRelayCommand>());
        Assert.Equal([Uid1, Uid2, "1.2.250.1.3"], Assert.Single(h.Commands<PurgeStudiesActivity>()).StudyInstanceUids.ToArray());
        Assert.All(h.State.Selected, s => Assert.Null(s.CurrentCommandId));
    }

    [Fact]
    public void A_study_with_no_site_left_to_try_fails_at_once_with_no_source()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        var siteless = h.State with { Candidates = [h.State.Candidates[0] with { SiteIds = [] }] };

        var t = RegistrationOrchestrator.Apply(siteless, new SelectionMade("select", h.Now, [Uid1], "dr-barbe"));

        var study = t.State.SelectedOf(Uid1)!;
        Assert.Equal((StudyStatus.Failed, "no_source", (string?)null), (study.Status, study.Failure?.Code, study.CurrentCommandId));
        Assert.Empty(t.Commands.OfType<StartStudyTransfer>());
        var failed = Assert.Single(t.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.StudyFailed);
        Assert.Equal((AuditOutcome.SeriousFailure, Uid1, "no_source"), (failed.Outcome, failed.StudyInstanceUid, failed.Detail));
        Assert.Equal(RegistrationStatus.Completed, t.State.Status);
    }

    [Fact]
    public void An_available_outcome_records_the_site_and_the_instances_stored()
    {
        var h = Harness.Transferring(null, Uid1);
        h.TransferFailed(Uid1, Unreachable);
        h.Select(Uid1);

        var available = h.Available(Uid1, count: 5, n: 2, site: "clinique-sud");

        Assert.Equal(DispositionKind.Applied, available.Disposition.Kind);
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Available, "clinique-sud", 5, 5, 5), (study.Status, study.SiteId, study.InstancesStored, study.InstancesDone, study.InstancesTotal));
        Assert.Null(study.Failure);
        Assert.Null(study.CurrentCommandId);
        Assert.Empty(available.Commands.OfType<WriteAuditActivity>()); // StudyStored is in the transfer's trail
        Assert.Single(available.Commands.OfType<PublishManifestActivity>());
    }

    [Theory]
    [InlineData(StudyTransferResult.Failed)]
    [InlineData(StudyTransferResult.Cancelled)]
    public void An_outcome_neither_available_nor_carrying_a_failure_fails_the_study_as_transfer_failed(StudyTransferResult result)
    {
        var h = Harness.Transferring(null, Uid1);

        var settled = h.Settled(Harness.Outcome(Uid1, result, site: null));

        Assert.Equal(DispositionKind.Applied, settled.Disposition.Kind);
        Assert.Equal((StudyStatus.Failed, "transfer_failed", "chu-nord"), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code, h.Study(Uid1).SiteId));
    }

    [Fact]
    public void Outcomes_of_an_older_transfer_of_an_unknown_study_or_of_a_settled_one_change_nothing()
    {
        var h = Harness.Transferring(null, Uid1);
        h.TransferFailed(Uid1, Unreachable);
        h.Select(Uid1);

        // Transfer 1 already reported; another report of it (even available) is not transfer 2's.
        var older = h.Available(Uid1, n: 1);
        Assert.Equal((DispositionKind.Ignored, DispositionReason.Stale), (older.Disposition.Kind, older.Disposition.Reason));
        Assert.Empty(older.Commands);
        Assert.Equal((StudyStatus.Retrieving, Harness.Transfer(Uid1, 2)), (h.Study(Uid1).Status, h.Study(Uid1).CurrentCommandId));
        Assert.Equal(DispositionReason.Stale, h.Available(Uid1, n: 3).Disposition.Reason);

        Assert.Equal(DispositionReason.UnknownStudy, h.Available(Uid2).Disposition.Reason);

        h.Available(Uid1, n: 2);
        var twice = h.TransferFailed(Uid1, Unreachable, n: 2);
        Assert.Equal(DispositionReason.Stale, twice.Disposition.Reason);
        Assert.Equal(StudyStatus.Available, h.Study(Uid1).Status);

        // The same event delivered again is a duplicate.
        var settled = new StudyTransferSettled(Harness.Transfer(Uid1, 2) + "/settled", h.Now, Harness.Outcome(Uid1, StudyTransferResult.Available, 2));
        h.Apply(settled);
        var state = h.State;
        Assert.Same(state, h.Apply(settled).State);
        Assert.Equal(DispositionReason.DuplicateEvent, h.Last.Disposition.Reason);
    }

    [Fact]
    public void The_retrievals_answers_are_the_transfers_the_registration_ignores_them()
    {
        var h = Harness.Transferring(null, Uid1);
        var retrieve = CommandIds.Retrieve(Harness.Transfer(Uid1), 1);
        var store = CommandIds.Store(Harness.Transfer(Uid1), 1);
        var study = h.Study(Uid1);

        OrchestrationEvent[] answers =
        [
            new RetrievalProgressed("p", h.Now, "chu-nord", retrieve, Uid1, 1, 2, 1000, Fixtures.Listed(Fixtures.Manifest(Uid1, 1), Uid1)),
            new RetrievalFinished("f", h.Now, "chu-nord", retrieve, Uid1, Fixtures.Listed(Fixtures.Manifest(Uid1, 2), Uid1)),
            new StoreStudyCompleted("sc", h.Now, store, Uid1, 2),
            new StoreStudyFailed("sf", h.Now, store, Uid1, "refused"),
        ];
        foreach (var answer in answers)
        {
            var t = h.Apply(answer);
            Assert.Equal((DispositionKind.Ignored, DispositionReason.Unknown), (t.Disposition.Kind, t.Disposition.Reason));
            Assert.Empty(t.Commands);
        }

        Assert.Equal(DispositionReason.Stale, h.Failed("chu-nord", retrieve, FailureReason.StudyNotFound).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Timer(Fixtures.RegistrationId + "/timer/retrieve-retry/" + Uid1 + "/a1").Disposition.Reason);
        Assert.Equal(study, h.Study(Uid1));
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
    }

    [Fact]
    public void The_registration_is_retrieving_while_a_transfer_is_in_flight_and_completed_once_every_study_settled()
    {
        var h = Harness.Transferring(null, Uid1, Uid2, "1.2.250.1.3");
        h.Available(Uid1);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
        h.TransferFailed(Uid2, Unreachable);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        h.Apply(new StudyDeleteRequested("del", h.Now, "1.2.250.1.3", "dr-barbe"));
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);

        h.Select(Uid2);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
        h.Available(Uid2, n: 2);
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
    }

    [Fact]
    public void A_plan_saved_before_the_retry_settings_hands_its_transfers_zero_rounds_so_they_fail_at_once_as_before()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        var saved = JsonSerializer.Serialize(h.State, OrchestrationJsonContext.Default.RegistrationState);
        var old = saved.Replace(",\"retrievalRetryInterval\":\"00:05:00\",\"maxRetrievalRounds\":3", string.Empty, StringComparison.Ordinal);
        Assert.NotEqual(saved, old);
        var restored = JsonSerializer.Deserialize(old, OrchestrationJsonContext.Default.RegistrationState)!;

        var t = RegistrationOrchestrator.Apply(restored, new SelectionMade("select", h.Now, [Uid1], "dr-barbe"));

        var input = Assert.Single(t.Commands.OfType<StartStudyTransfer>()).Input;
        Assert.Equal((0, TimeSpan.Zero), (input.MaxRounds, input.RetryInterval));
    }

    [Fact]
    public void A_relays_retrieval_answers_are_routed_to_the_transfer_its_command_id_names()
    {
        var transfer = Harness.Transfer(Uid1, 2);
        var retrieve = CommandIds.Retrieve(transfer, 3);
        Assert.Equal(transfer + "/retrieve/a3", retrieve);
        Assert.Equal(transfer, CommandIds.TransferOf(retrieve));
        Assert.Equal(transfer, CommandIds.TransferOf(CommandIds.Cancel(retrieve)));
        Assert.Null(CommandIds.TransferOf(Harness.Find("chu-nord")));
        Assert.Null(CommandIds.TransferOf(CommandIds.Deliver(Fixtures.RegistrationId, Uid1, 1)));
        Assert.Null(CommandIds.TransferOf(Fixtures.RegistrationId + "/retrieve/a1")); // no transfer named before it
        Assert.Null(CommandIds.TransferOf(null));
        Assert.Null(CommandIds.TransferOf(string.Empty));

        var reg = Fixtures.RegistrationId;
        Assert.Equal(transfer, RelayEventTranslator.InstanceFor(reg, new RetrievalProgressed("p", Fixtures.T0, "chu-nord", retrieve, Uid1, 1, 2, 3)));
        Assert.Equal(transfer, RelayEventTranslator.InstanceFor(reg, new RetrievalFinished("f", Fixtures.T0, "chu-nord", retrieve, Uid1, Fixtures.Listed(Fixtures.Manifest(Uid1), Uid1))));
        Assert.Equal(transfer, RelayEventTranslator.InstanceFor(reg, new RelayCommandFailed("x", Fixtures.T0, "chu-nord", retrieve, FailureReason.Timeout, "x")));
        Assert.Equal(reg, RelayEventTranslator.InstanceFor(reg, new RelayCommandFailed("y", Fixtures.T0, "chu-nord", Harness.Find("chu-nord"), FailureReason.Timeout, "x")));
        Assert.Equal(reg, RelayEventTranslator.InstanceFor(reg, new StudiesFoundAtSite("z", Fixtures.T0, "chu-nord", Harness.Find("chu-nord"), [])));

        // A command id naming another registration's transfer does not reach it through this registration.
        var foreign = CommandIds.Retrieve(CommandIds.StudyTransfer("reg-0002", Uid1, 1), 1);
        Assert.Equal(reg, RelayEventTranslator.InstanceFor(reg, new RetrievalFinished("g", Fixtures.T0, "chu-nord", foreign, Uid1, Fixtures.Listed(Fixtures.Manifest(Uid1), Uid1))));
    }

    [Fact]
    public void A_transfers_progress_shows_on_its_study_only_while_it_is_the_current_transfer()
    {
        var h = Harness.Transferring(null, Uid1, Uid2);
        var due = h.Now.AddMinutes(5);
        var progress = new StudyTransferProgress(Fixtures.RegistrationId, Uid1, Harness.Transfer(Uid1), 7, StudyStatus.Pending, "clinique-sud", 2, 2, 3, 10, 3000, Unreachable, due);

        var shown = progress.OverlayOn(h.State).SelectedOf(Uid1)!;

        Assert.Equal((StudyStatus.Pending, "clinique-sud", 2, 2), (shown.Status, shown.SiteId, shown.Attempt, shown.RetrievalRound));
        Assert.Equal((3, 10, 3000L, Unreachable, (DateTimeOffset?)due), (shown.InstancesDone, shown.InstancesTotal, shown.BytesDone, shown.Failure, shown.NextAttemptAt));
        Assert.Equal(h.Study(Uid2), progress.OverlayOn(h.State).SelectedOf(Uid2));

        // Another transfer's progress, a study whose transfer settled, or a study not selected: the state as it is.
        Assert.Same(h.State, (progress with { TransferId = Harness.Transfer(Uid1, 2) }).OverlayOn(h.State));
        Assert.Same(h.State, (progress with { StudyInstanceUid = "9.9", TransferId = Harness.Transfer("9.9") }).OverlayOn(h.State));
        h.Available(Uid1);
        Assert.Same(h.State, progress.OverlayOn(h.State));
    }
}
