using System.Text.Json;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

public class RegistrationOrchestratorTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";
    private const string Uid3 = "1.2.250.1.3";

    [Fact]
    public void Start_opens_a_search_round_whose_first_attempts_send_one_find_per_site_and_sets_the_purge_timer()
    {
        var h = new Harness();

        Assert.Equal(RegistrationStatus.Running, h.State.Status);
        var finds = h.Commands<FindStudiesActivity>();
        Assert.Equal(Fixtures.Sites.ToArray(), finds.Select(f => f.SiteId));
        Assert.All(finds, f => Assert.Equal(Harness.Find(f.SiteId), f.CommandId));
        Assert.All(finds, f => Assert.Equal(new DateOnly(1958, 4, 12), f.Query.BirthDate));
        Assert.All(finds, f => Assert.Null(f.Query.FamilyName)); // broad keys only

        // The attempts' timeouts are the searches' own durable timers: the state sets only the purge's.
        var timer = Assert.Single(h.Commands<StartDurableTimer>());
        Assert.Equal((TimerPurpose.Purge, Fixtures.MeetingStart.AddDays(30)), (timer.Purpose, timer.FireAt));
        Assert.All(h.State.Sites, site => Assert.Equal((SiteSearchStatus.Searching, 1, 1), (site.Status, site.Round, site.Attempt)));
        Assert.Single(h.Commands<WriteAuditActivity>(), a => a.Action == AuditAction.RegistrationStarted && a.PatientKey == "pk1-test");
    }

    [Fact]
    public void Full_happy_path_from_search_to_available_studies()
    {
        var h = new Harness();
        h.Found("ch-est");
        Assert.Equal(RegistrationStatus.Running, h.State.Status);
        h.Found("chu-nord", studies: [Fixtures.Study(Uid1), Fixtures.Study("9.9", Fixtures.PacsPatientOther())]);
        h.Found("clinique-sud", studies: Fixtures.Study(Uid1));

        Assert.Equal(RegistrationStatus.WaitingForSelection, h.State.Status);
        var candidate = Assert.Single(h.State.Candidates);
        Assert.Equal(["chu-nord", "clinique-sud"], candidate.SiteIds.ToArray());
        Assert.Contains(h.Last.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.CandidatesReady);

        h.Select(Uid1);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
        var transfer = Assert.Single(h.Commands<StartStudyTransfer>());
        Assert.Equal((Harness.Transfer(Uid1), Harness.Transfer(Uid1), Uid1), (transfer.CommandId, transfer.Input.TransferId, transfer.Input.StudyInstanceUid));
        Assert.Equal(["chu-nord", "clinique-sud"], transfer.Input.SiteIds.ToArray());
        Assert.Empty(h.Commands<RetrieveStudyActivity>()); // the transfer sends it

        h.Available(Uid1, count: 2);
        Assert.Equal((StudyStatus.Available, 2), (h.Study(Uid1).Status, h.Study(Uid1).InstancesStored));
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
    }

    [Fact]
    public void Near_misses_are_counted_per_site_and_never_offered()
    {
        var h = new Harness();
        var wrongBirthDate = Fixtures.PacsPatientMatching() with { BirthDate = new DateOnly(1958, 4, 13) };
        var wrongSex = Fixtures.PacsPatientMatching() with { Sex = "M" };
        var wrongFirstName = Fixtures.PacsPatientMatching() with { PatientName = "MARTIN^HELENA" };
        var wrongFamily = Fixtures.PacsPatientMatching() with { PatientName = "MARTINEZ^HELENE", PatientBirthName = null };
        h.Found("chu-nord", studies: [Fixtures.Study("1"), Fixtures.Study("2", wrongBirthDate), Fixtures.Study("3", wrongSex), Fixtures.Study("4", wrongFirstName), Fixtures.Study("5", wrongFamily), Fixtures.Study("6", Fixtures.PacsPatientOther())]);

        var site = h.Site("chu-nord");
        Assert.Equal(new NearMissCounts(1, 1, 1, 1, 0), site.NearMisses);
        Assert.Equal((6, 1), (site.StudiesReturned, site.Matched));
        Assert.Equal(["1"], h.State.Candidates.Select(c => c.StudyInstanceUid));
    }

    [Fact]
    public void Matched_studies_outside_the_filter_are_counted_not_offered()
    {
        var filter = new ImagingFilterOverride(["MR"], DateFilter.WithinLastMonths(6));
        var h = new Harness(Fixtures.Plan(filter: filter));
        Assert.All(h.Commands<FindStudiesActivity>(), f => Assert.Equal((new DateOnly(2024, 9, 22), new DateOnly(2025, 3, 22)), (f.StudyDateFrom!.Value, f.StudyDateTo!.Value)));

        h.Found("chu-nord", studies: [Fixtures.Study("ct-recent", null, new DateOnly(2025, 1, 1), "CT"), Fixtures.Study("mr-old", null, new DateOnly(2023, 1, 1), "MR"), Fixtures.Study("mr-recent", null, new DateOnly(2025, 2, 1), "MR")]);
        Assert.Equal(["mr-recent"], h.State.Candidates.Select(c => c.StudyInstanceUid));
        Assert.Equal(2, h.Site("chu-nord").FilteredOut);
    }

    [Fact]
    public void A_new_attempt_sends_a_new_find_and_a_search_waiting_to_retry_marks_the_site_unreachable_without_holding_the_fan_in()
    {
        var h = new Harness();
        h.Found("ch-est");
        h.Found("clinique-sud");

        h.Now = Fixtures.T0.AddMinutes(2);
        h.Attempt("chu-nord", 2, inBurst: 2, previousFailure: FailureReason.Timeout);
        Assert.Equal(Harness.Find("chu-nord", attempt: 2), Assert.Single(h.Commands<FindStudiesActivity>()).CommandId);
        Assert.Equal((SiteSearchStatus.Searching, 2, 2, FailureReason.Timeout), (h.Site("chu-nord").Status, h.Site("chu-nord").Attempt, h.Site("chu-nord").AttemptsInBurst, h.Site("chu-nord").LastFailure));

        h.Attempt("chu-nord", 3, inBurst: 3, previousFailure: FailureReason.Timeout);
        var retryAt = h.Now.AddMinutes(10);
        var gaveUp = h.GaveUp("chu-nord", 3, FailureReason.Timeout, retryAt);
        Assert.Empty(gaveUp.Commands.OfType<FindStudiesActivity>());
        Assert.Empty(gaveUp.Commands.OfType<StartDurableTimer>()); // the search waits on its own timer
        Assert.Equal((SiteSearchStatus.Unreachable, retryAt), (h.Site("chu-nord").Status, h.Site("chu-nord").NextAttemptAt));

        // Fan-in does not wait for an unreachable site.
        Assert.Equal(RegistrationStatus.WaitingForSelection, h.State.Status);
        Assert.Contains(gaveUp.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.SiteUnreachable && a.Outcome == AuditOutcome.MinorFailure && a.Detail == "reason=Timeout attempts=3");
    }

    [Fact]
    public void An_unreachable_site_asked_again_later_answers_and_its_studies_join_the_list()
    {
        var h = new Harness();
        h.Found("ch-est");
        h.Found("clinique-sud");
        h.Attempt("chu-nord", 2, inBurst: 2, previousFailure: FailureReason.PacsUnreachable);
        h.Attempt("chu-nord", 3, inBurst: 3, previousFailure: FailureReason.PacsUnreachable);
        h.GaveUp("chu-nord", 3, FailureReason.PacsUnreachable, h.Now.AddMinutes(10));

        h.Now += TimeSpan.FromMinutes(10);
        h.Attempt("chu-nord", 4);
        Assert.Equal(Harness.Find("chu-nord", attempt: 4), Assert.Single(h.Commands<FindStudiesActivity>()).CommandId);
        Assert.Equal((SiteSearchStatus.Searching, 1, null), (h.Site("chu-nord").Status, h.Site("chu-nord").AttemptsInBurst, h.Site("chu-nord").NextAttemptAt));

        // The relay comes back and answers the latest attempt.
        h.Found("chu-nord", attempt: 4, studies: Fixtures.Study(Uid1));
        Assert.Equal(SiteSearchStatus.Searched, h.Site("chu-nord").Status);
        Assert.Single(h.State.Candidates);
        Assert.Equal(RegistrationStatus.WaitingForSelection, h.State.Status);
    }

    [Fact]
    public void A_search_giving_up_for_the_round_fails_the_site_and_says_why()
    {
        var h = new Harness { Now = Fixtures.MeetingStart.AddMinutes(-5) };
        var gaveUp = h.GaveUp("chu-nord", 1, FailureReason.Timeout);
        Assert.Equal((SiteSearchStatus.Failed, FailureReason.Timeout), (h.Site("chu-nord").Status, h.Site("chu-nord").LastFailure));
        Assert.Contains(gaveUp.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.SiteFailed && a.Detail!.EndsWith("(unreachable until the meeting)", StringComparison.Ordinal));

        h.GaveUp("clinique-sud", 1, FailureReason.PacsRejected);
        Assert.Contains(h.Last.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.SiteFailed && a.Detail!.EndsWith("(permanent failure)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_relay_failure_of_a_find_is_its_search_s_to_judge_not_the_state_s()
    {
        var h = new Harness();
        var failed = h.Failed("chu-nord", Harness.Find("chu-nord"), FailureReason.PacsRejected);
        Assert.Equal(DispositionReason.Stale, failed.Disposition.Reason);
        Assert.Equal(SiteSearchStatus.Searching, h.Site("chu-nord").Status);
        Assert.Empty(failed.Commands);
    }

    [Fact]
    public void Every_site_failing_with_nothing_found_fails_the_registration()
    {
        var h = new Harness();
        foreach (var site in Fixtures.Sites)
        {
            h.GaveUp(site, 1, FailureReason.InvalidCommand);
        }

        Assert.Equal(RegistrationStatus.Failed, h.State.Status);
    }

    [Fact]
    public void Late_answer_of_a_superseded_attempt_is_accepted_once_then_the_newer_answer_is_stale()
    {
        var h = new Harness();
        h.Attempt("chu-nord", 2, inBurst: 2, previousFailure: FailureReason.Timeout);
        Assert.Equal(DispositionKind.Applied, h.Found("chu-nord", attempt: 1, studies: Fixtures.Study(Uid1)).Disposition.Kind);
        var second = h.Found("chu-nord", attempt: 2, studies: Fixtures.Study(Uid2));
        Assert.Equal(DispositionReason.Stale, second.Disposition.Reason);
        Assert.Equal([Uid1], h.State.Candidates.Select(c => c.StudyInstanceUid));
    }

    [Fact]
    public void An_attempt_or_a_give_up_after_the_answer_is_stale()
    {
        var h = new Harness();
        h.Found("chu-nord");
        foreach (var late in new[] { h.Attempt("chu-nord", 2), h.GaveUp("chu-nord", 1, FailureReason.Timeout, h.Now.AddMinutes(10)) })
        {
            Assert.Equal(DispositionReason.Stale, late.Disposition.Reason);
            Assert.Empty(late.Commands);
        }

        Assert.Equal(SiteSearchStatus.Searched, h.Site("chu-nord").Status);
    }

    [Fact]
    public void Duplicate_event_changes_nothing_and_emits_nothing()
    {
        var h = new Harness();
        var e = new StudiesFoundAtSite("dup", h.Now, "chu-nord", Harness.Find("chu-nord"), [Fixtures.Study(Uid1)]);
        h.Apply(e);
        var before = h.State;
        var again = h.Apply(e);
        Assert.Same(before, again.State);
        Assert.Empty(again.Commands);
        Assert.Equal(DispositionReason.DuplicateEvent, again.Disposition.Reason);
    }

    [Fact]
    public void Unknown_site_and_unknown_command_are_ignored_with_a_reason()
    {
        var h = new Harness();
        Assert.Equal(DispositionReason.Unknown, h.Apply(new StudiesFoundAtSite("x1", h.Now, "nowhere", "x", [])).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Apply(new StudiesFoundAtSite("x2", h.Now, "chu-nord", "made-up-command", [Fixtures.Study(Uid1)])).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Failed("chu-nord", "made-up-command", FailureReason.Internal).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Timer("made-up-timer").Disposition.Reason);
        Assert.Empty(h.State.Candidates);
    }

    [Fact]
    public void Events_before_the_start_are_ignored_not_fatal()
    {
        var state = RegistrationState.Create(Fixtures.RegistrationId);
        var t = RegistrationOrchestrator.Apply(state, new SelectionMade("s", Fixtures.T0, [Uid1], "dr"));
        Assert.Equal(DispositionReason.NotStarted, t.Disposition.Reason);
        Assert.Equal(RegistrationStatus.Pending, t.State.Status);
        Assert.Empty(t.Commands);
    }

    [Fact]
    public void Second_start_is_ignored_and_a_plan_for_another_registration_is_rejected()
    {
        var h = new Harness();
        Assert.Equal(DispositionReason.AlreadyStarted, h.Apply(new RegistrationStarted("start-2", h.Now, Fixtures.Plan())).Disposition.Reason);

        var other = RegistrationState.Create("reg-other");
        Assert.Equal(DispositionReason.WrongRegistration, RegistrationOrchestrator.Apply(other, new RegistrationStarted("s", Fixtures.T0, Fixtures.Plan())).Disposition.Reason);
    }

    [Fact]
    public void Study_disappearing_between_find_and_retrieve_fails_with_a_reason_and_others_are_unaffected()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);
        h.TransferFailed(Uid1, new StudyFailure("study_not_found", "The PACS no longer holds the study."));

        var failed = h.Study(Uid1);
        Assert.Equal(StudyStatus.Failed, failed.Status);
        Assert.Equal("study_not_found", failed.Failure!.Code);
        Assert.Null(failed.CurrentCommandId);
        Assert.Equal(StudyStatus.Retrieving, h.Study(Uid2).Status);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        h.Available(Uid2);
        Assert.Equal(StudyStatus.Available, h.Study(Uid2).Status);
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
    }

    [Fact]
    public void Selection_of_an_unknown_study_is_rejected_whole()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        var t = h.Select(Uid1, "6.6.6");
        Assert.Equal((DispositionKind.Rejected, DispositionReason.UnknownStudy), (t.Disposition.Kind, t.Disposition.Reason));
        Assert.Empty(h.State.Selected);
        Assert.Empty(t.Commands.OfType<StartStudyTransfer>());
        Assert.Single(t.Commands.OfType<WriteAuditActivity>(), a => a.Action == AuditAction.SelectionRejected);
    }

    [Fact]
    public void Deleting_a_loaded_study()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        h.Select(Uid1);
        h.Available(Uid1);

        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid1, "dr-barbe"));
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid1).Status);
        var delete = Assert.Single(h.Commands<DeleteStudyActivity>());
        Assert.Equal((CommandIds.Delete(Fixtures.RegistrationId, Uid1, 1), Uid1, $"{Fixtures.RegistrationId}/{Uid1}/"), (delete.CommandId, delete.StudyInstanceUid, delete.StagingPrefix));
        Assert.Empty(h.Commands<CancelStudyTransfer>()); // nothing in transfer
        Assert.Empty(h.Commands<CancelRelayCommand>());

        Assert.Equal(DispositionReason.NothingToDo, h.Apply(new StudyDeleteRequested("del-2", h.Now, Uid1, "dr-barbe")).Disposition.Reason);
        Assert.Equal(DispositionReason.UnknownStudy, h.Apply(new StudyDeleteRequested("del-3", h.Now, Uid2, "dr-barbe")).Disposition.Reason);
    }

    [Fact]
    public void Refresh_queries_every_site_again_and_finds_a_new_study()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        h.Select(Uid1);

        h.Apply(new RefreshRequested("refresh-1", h.Now, "dr-barbe"));
        Assert.All(h.State.Sites, site => Assert.Equal((SiteSearchStatus.Searching, 2, 0), (site.Status, site.Round, site.Attempt)));
        h.AskEverySite();
        Assert.Equal(Fixtures.Sites.Select(s => Harness.Find(s, round: 2)), h.Commands<FindStudiesActivity>().Select(f => f.CommandId));

        // A round-1 answer arriving now is stale.
        Assert.Equal(DispositionReason.Stale, h.Found("ch-est", round: 1, attempt: 1, studies: Fixtures.Study(Uid3)).Disposition.Reason);

        h.Found("ch-est", round: 2);
        h.Found("chu-nord", round: 2, studies: [Fixtures.Study(Uid1), Fixtures.Study(Uid2)]);
        h.Found("clinique-sud", round: 2);
        Assert.Equal([Uid1, Uid2], h.State.Candidates.Select(c => c.StudyInstanceUid));
        Assert.Equal(StudyStatus.Retrieving, h.Study(Uid1).Status); // untouched by the refresh
    }

    [Fact]
    public void Auto_select_all_retrieves_every_candidate_at_fan_in()
    {
        var h = new Harness(Fixtures.Plan(new AutoSelectPolicy(AutoSelectMode.AllCandidates)));
        h.Found("ch-est");
        h.Found("chu-nord", studies: [Fixtures.Study(Uid1), Fixtures.Study(Uid2)]);
        Assert.Empty(h.Commands<StartStudyTransfer>()); // not before fan-in
        h.Found("clinique-sud");

        Assert.Equal([Harness.Transfer(Uid1), Harness.Transfer(Uid2)], h.Commands<StartStudyTransfer>().Select(t => t.Input.TransferId));
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);
    }

    [Fact]
    public void Auto_select_most_recent_takes_the_newest_studies()
    {
        var h = new Harness(Fixtures.Plan(new AutoSelectPolicy(AutoSelectMode.MostRecent, 2)));
        h.AllSitesAnswer(
            Fixtures.Study(Uid1, date: new DateOnly(2024, 1, 1)),
            Fixtures.Study(Uid2, date: new DateOnly(2025, 2, 1)),
            Fixtures.Study(Uid3, date: new DateOnly(2025, 1, 1)));
        Assert.Equal([Uid2, Uid3], h.State.Selected.Select(s => s.StudyInstanceUid));
    }

    [Fact]
    public void Auto_select_also_picks_studies_an_unreachable_site_reports_later()
    {
        var h = new Harness(Fixtures.Plan(new AutoSelectPolicy(AutoSelectMode.AllCandidates)));
        h.Found("ch-est");
        h.Found("clinique-sud", studies: Fixtures.Study(Uid1));
        h.Attempt("chu-nord", 2, inBurst: 2, previousFailure: FailureReason.Timeout);
        h.Attempt("chu-nord", 3, inBurst: 3, previousFailure: FailureReason.Timeout);
        h.GaveUp("chu-nord", 3, FailureReason.Timeout, h.Now.AddMinutes(10));

        Assert.Equal([Uid1], h.State.Selected.Select(s => s.StudyInstanceUid));
        h.Found("chu-nord", attempt: 3, studies: Fixtures.Study(Uid2));
        Assert.Equal([Uid1, Uid2], h.State.Selected.Select(s => s.StudyInstanceUid));
    }

    [Fact]
    public void Expertise_e_mail_leaves_once_with_the_first_available_study()
    {
        var h = new Harness(Fixtures.Plan(expertise: true));
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);
        Assert.Equal(ExpertiseStatus.Pending, h.State.Expertise);
        h.TransferFailed(Uid2, new StudyFailure("pacs_rejected", "refused"));
        Assert.Empty(h.Commands<SendExpertiseEmailActivity>()); // a failed study is nothing to look at

        h.Available(Uid1);
        var mail = Assert.Single(h.Commands<SendExpertiseEmailActivity>());
        Assert.Equal([Fixtures.Radiologist, Fixtures.NuclearPhysician], mail.Recipients.ToArray());
        Assert.Equal(CommandIds.ExpertiseEmail(Fixtures.RegistrationId), mail.CommandId);

        h.Select(Uid2);
        h.Available(Uid2, n: 2);
        Assert.Equal(StudyStatus.Available, h.Study(Uid2).Status);
        Assert.Empty(h.Commands<SendExpertiseEmailActivity>());
        Assert.Equal(DispositionReason.NothingToDo, h.Apply(new ExpertiseRequested("exp-again", h.Now, "dr")).Disposition.Reason);
    }

    [Fact]
    public void Expertise_requested_later_is_sent_at_once_when_a_study_is_available()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1));
        h.Select(Uid1);
        h.Available(Uid1);
        h.Apply(new ExpertiseRequested("exp", h.Now, "dr-barbe"));
        Assert.Single(h.Commands<SendExpertiseEmailActivity>());
    }

    [Fact]
    public void Expertise_without_on_call_physicians_is_rejected()
    {
        var h = new Harness(Fixtures.Plan(withOnCall: false));
        var t = h.Apply(new ExpertiseRequested("exp", h.Now, "dr-barbe"));
        Assert.Equal((DispositionKind.Rejected, DispositionReason.NoRecipients), (t.Disposition.Kind, t.Disposition.Reason));
    }

    [Fact]
    public void Purge_timer_purges_every_loaded_study_cancels_transfers_and_ends_the_instance()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2), Fixtures.Study(Uid3));
        h.Select(Uid1, Uid2, Uid3);
        h.Available(Uid1);
        h.Apply(new StudyDeleteRequested("del", h.Now, Uid3, "dr"));

        h.Now = Fixtures.MeetingStart.AddDays(30);
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));

        var purge = Assert.Single(h.Commands<PurgeStudiesActivity>());
        Assert.Equal([Uid1, Uid2], purge.StudyInstanceUids.ToArray());
        Assert.Equal(Fixtures.RegistrationId + "/", purge.StagingRoot);
        var cancel = Assert.Single(h.Commands<CancelStudyTransfer>());
        Assert.Equal((CommandIds.Cancel(Harness.Transfer(Uid2)), Harness.Transfer(Uid2)), (cancel.CommandId, cancel.TransferId));
        Assert.Empty(h.Commands<CancelRelayCommand>());
        Assert.Equal(RegistrationStatus.Purged, h.State.Status);
        Assert.Equal(StudyStatus.Purged, h.Study(Uid1).Status);
        Assert.Equal((StudyStatus.Purged, (string?)null), (h.Study(Uid2).Status, h.Study(Uid2).CurrentCommandId));
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid3).Status);

        // The cancelled transfer stored nothing: its outcome changes nothing.
        var late = h.TransferCancelled(Uid2);
        Assert.Equal(DispositionReason.Stale, late.Disposition.Reason);
        Assert.Empty(late.Commands);
        Assert.Equal(StudyStatus.Purged, h.Study(Uid2).Status);
        Assert.Equal(DispositionReason.RegistrationPurged, h.Select(Uid2).Disposition.Reason);
    }

    [Theory]
    [InlineData(StoreFailureCodes.StoreFailed)]
    [InlineData(StoreFailureCodes.IdentityMismatch)]
    [InlineData(StoreFailureCodes.UnexpectedInstance)]
    [InlineData("pacs_rejected")]
    public void A_failed_transfer_fails_only_its_study_with_the_outcomes_failure_and_writes_no_record_of_its_own(string code)
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);

        var failed = h.TransferFailed(Uid1, new StudyFailure(code, "The transfer gave up."), site: "clinique-sud");
        Assert.Equal(DispositionKind.Applied, failed.Disposition.Kind);
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Failed, code, "clinique-sud", (string?)null), (study.Status, study.Failure!.Code, study.SiteId, study.CurrentCommandId));
        Assert.Empty(failed.Commands); // the transfer wrote StudyFailed / StudyStoreFailed in its own trail
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        h.Available(Uid2, count: 1);
        Assert.Equal(StudyStatus.Available, h.Study(Uid2).Status);
        Assert.Equal(StudyStatus.Failed, h.Study(Uid1).Status);
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
    }

    [Fact]
    public void Processed_event_ids_are_bounded()
    {
        var settings = OrchestrationSettings.Default with { ProcessedEventMemory = 4 };
        var h = new Harness(Fixtures.Plan() with { Settings = settings });
        for (var i = 0; i < 10; i++)
        {
            h.Apply(new SiteHeartbeat($"hb-{i}", h.Now, "chu-nord", true));
        }

        Assert.Equal(["hb-6", "hb-7", "hb-8", "hb-9"], h.State.ProcessedEventIds.ToArray());
    }

    [Fact]
    public void Every_command_id_and_audit_id_is_unique_over_a_whole_history()
    {
        var h = new Harness(Fixtures.Plan(expertise: true));
        var ids = new List<string>(h.Last.Commands.Select(c => c.CommandId));
        void Track() => ids.AddRange(h.Last.Commands.Select(c => c.CommandId));
        h.Attempt("ch-est", 2, inBurst: 2, previousFailure: FailureReason.Timeout); Track();
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2)); Track();
        h.Select(Uid1, Uid2); Track();
        h.Available(Uid1); Track();
        h.Apply(new StudyDeleteRequested("d", h.Now, Uid2, "dr")); Track();
        h.TransferCancelled(Uid2, mayHaveStored: true); Track();
        h.Select(Uid2); Track();
        h.Refresh("r"); Track();
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId)); Track();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains(Harness.Transfer(Uid2, 2), ids);
        Assert.Contains(CommandIds.Cancel(Harness.Transfer(Uid2, 2)), ids);
        Assert.Contains(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid2, 1), ids);

        // Every id is the registration's: its own steps after '/', a transfer's (a sub-orchestration's instance id) after ':'.
        Assert.All(ids, id => Assert.True(
            id.StartsWith(Fixtures.RegistrationId + "/", StringComparison.Ordinal) || id.StartsWith(Fixtures.RegistrationId + ":transfer:", StringComparison.Ordinal), id));
    }

    [Fact]
    public void State_and_commands_round_trip_through_the_source_generated_json_context()
    {
        var h = new Harness(Fixtures.Plan(expertise: true));
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);
        h.Apply(new StudyDeleteRequested("del", h.Now, Uid2, "dr")); // a CancelStudyTransfer among the commands

        var json = JsonSerializer.Serialize(h.State, OrchestrationJsonContext.Default.RegistrationState);
        var back = JsonSerializer.Deserialize(json, OrchestrationJsonContext.Default.RegistrationState)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, OrchestrationJsonContext.Default.RegistrationState));
        Assert.Contains("\"status\":\"Retrieving\"", json, StringComparison.Ordinal);

        // The restored state carries on exactly like the original.
        var settled = new StudyTransferSettled("settled", h.Now, Harness.Outcome(Uid1, StudyTransferResult.Available, stored: 2));
        var fromOriginal = RegistrationOrchestrator.Apply(h.State, settled);
        var fromRestored = RegistrationOrchestrator.Apply(back, settled);
        Assert.Equal(StudyStatus.Available, fromRestored.State.SelectedOf(Uid1)!.Status);
        Assert.Equal(
            JsonSerializer.Serialize(fromOriginal.State, OrchestrationJsonContext.Default.RegistrationState),
            JsonSerializer.Serialize(fromRestored.State, OrchestrationJsonContext.Default.RegistrationState));
        h.Apply(settled);
        var replayed = RegistrationOrchestrator.Replay(RegistrationState.Create(Fixtures.RegistrationId), h.History).Commands;
        Assert.Contains(replayed, c => c is StartStudyTransfer);
        Assert.Contains(replayed, c => c is CancelStudyTransfer);

        foreach (var command in h.History.Count > 0 ? RegistrationOrchestrator.Replay(RegistrationState.Create(Fixtures.RegistrationId), h.History).Commands : [])
        {
            var text = JsonSerializer.Serialize(command, OrchestrationJsonContext.Default.OrchestrationCommand);
            var parsed = JsonSerializer.Deserialize(text, OrchestrationJsonContext.Default.OrchestrationCommand)!;
            Assert.Equal(command.GetType(), parsed.GetType());
            Assert.Equal(text, JsonSerializer.Serialize(parsed, OrchestrationJsonContext.Default.OrchestrationCommand));
        }

        foreach (var e in h.History)
        {
            var text = JsonSerializer.Serialize(e, OrchestrationJsonContext.Default.OrchestrationEvent);
            Assert.Equal(e.GetType(), JsonSerializer.Deserialize(text, OrchestrationJsonContext.Default.OrchestrationEvent)!.GetType());
        }
    }

    [Fact]
    public void Relay_messages_translate_to_orchestration_events_using_the_receive_time()
    {
        var received = Fixtures.T0.AddSeconds(5);
        var envelope = new MessageEnvelope("m1", Fixtures.RegistrationId, Harness.Find("chu-nord"), "chu-nord", Fixtures.T0.AddYears(1), 1, new StudiesFound([Fixtures.Study(Uid1)]));
        var e = Assert.IsType<StudiesFoundAtSite>(RelayEventTranslator.Translate(envelope, received));
        Assert.Equal(("m1", received, "chu-nord", Harness.Find("chu-nord")), (e.EventId, e.At, e.SiteId, e.CommandId));

        Assert.IsType<RelayCommandFailed>(RelayEventTranslator.Translate(envelope with { Body = new CommandFailed("RetrieveStudy", FailureReason.Timeout, "x") }, received));
        Assert.IsType<RetrievalProgressed>(RelayEventTranslator.Translate(envelope with { Body = new RetrievalProgress(Uid1, 1, 2, 3) }, received));
        var manifest = Fixtures.Manifest(Uid1, 2);
        var completed = envelope with { Body = new RetrievalCompleted(Uid1, manifest) };
        var listed = Fixtures.Listed(manifest, Uid1);
        Assert.Equal((Uid1, manifest), RelayEventTranslator.InstancesOf(completed.Body));
        Assert.Equal(listed, Assert.IsType<RetrievalFinished>(RelayEventTranslator.Translate(completed, received, listed)).Manifest);
        Assert.Throws<ArgumentNullException>(() => RelayEventTranslator.Translate(completed, received));
        Assert.Null(RelayEventTranslator.InstancesOf(new RetrievalProgress(Uid1, 1, 2, 3)));
        Assert.Equal((Uid1, (IReadOnlyList<StagedInstance>)[manifest[0]]), RelayEventTranslator.InstancesOf(new RetrievalProgress(Uid1, 1, 2, 3, [manifest[0]])));
        Assert.True(Assert.IsType<SiteHeartbeat>(RelayEventTranslator.Translate(envelope with { Body = new Heartbeat("1.0", received, PacsEchoStatus.Ok, null) }, received)).PacsReachable);
        Assert.Null(RelayEventTranslator.Translate(envelope with { Body = new EchoResult(PacsEchoStatus.Ok, 1) }, received));
    }
}
