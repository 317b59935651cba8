using System.Text.Json;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>
/// Automatic retry of a retrieval that failed for a transient cause at every site holding the study: a durable timer
/// starts a new round over all of them, up to <see cref="OrchestrationSettings.MaxRetrievalRounds"/>; permanent causes
/// and exhausted rounds settle the study Failed; timers of a study that moved on are stale.
/// </summary>
public class RetrievalRetryTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";

    private static readonly TimeSpan Interval = OrchestrationSettings.Default.RetrievalRetryInterval;

    private static string RetryTimer(string uid, int attempt) => CommandIds.RetrieveRetry(Fixtures.RegistrationId, uid, attempt);

    private static List<WriteAuditActivity> Records(Transition transition) => [.. transition.Commands.OfType<WriteAuditActivity>()];

    /// <summary>Uid1 held by chu-nord only (and Uid2 too), both selected.</summary>
    private static Harness HeldByOneSite(OrchestrationSettings? settings = null)
    {
        var h = new Harness(settings is null ? null : Fixtures.Plan() with { Settings = settings });
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);
        return h;
    }

    /// <summary>Uid1 held by chu-nord and clinique-sud, selected.</summary>
    private static Harness HeldByTwoSites()
    {
        var h = new Harness();
        h.Found("ch-est");
        h.Found("chu-nord", studies: Fixtures.Study(Uid1));
        h.Found("clinique-sud", studies: Fixtures.Study(Uid1));
        h.Select(Uid1);
        return h;
    }

    /// <summary>Fails the study's retrieval in flight with <paramref name="reason"/>.</summary>
    private static Transition FailCurrent(Harness h, string uid, FailureReason reason)
    {
        var study = h.Study(uid);
        Assert.Equal(StudyStatus.Retrieving, study.Status);
        return h.Failed(study.SiteId!, study.CurrentCommandId!, reason);
    }

    [Theory]
    [InlineData(FailureReason.StagingFailed, "staging_failed")]
    [InlineData(FailureReason.PacsUnreachable, "pacs_unreachable")]
    [InlineData(FailureReason.Timeout, "timeout")]
    [InlineData(FailureReason.Internal, "relay_error")]
    [InlineData(FailureReason.CredentialExpired, "credential_expired")]
    public void A_transient_failure_with_no_site_left_schedules_a_retry_instead_of_failing(FailureReason reason, string code)
    {
        var h = HeldByOneSite();
        var failed = FailCurrent(h, Uid1, reason);

        Assert.Equal(DispositionKind.Applied, failed.Disposition.Kind);
        Assert.Empty(h.Commands<RetrieveStudyActivity>());
        var timer = Assert.Single(h.Commands<StartDurableTimer>());
        Assert.Equal((RetryTimer(Uid1, 1), TimerPurpose.RetrieveRetry, h.Now + Interval), (timer.CommandId, timer.Purpose, timer.FireAt));

        // Visibly not failed for good: Pending with the last failure and the next attempt's time; the registration is still retrieving.
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Pending, code, timer.FireAt, timer.CommandId), (study.Status, study.Failure?.Code, study.NextAttemptAt, study.RetryTimerId));
        Assert.Null(study.CurrentCommandId);
        Assert.False(study.IsSettled);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        // Audit: the failed attempt, then the scheduled retry (both minor failures: the action is restarted), no final failure.
        var records = Records(failed);
        Assert.Equal([AuditAction.StudyFailed, AuditAction.RetrievalRetryScheduled], records.Select(r => r.Action));
        Assert.All(records, r => Assert.Equal(AuditOutcome.MinorFailure, r.Outcome));
        var scheduled = records[1];
        Assert.Equal(("chu-nord", Uid1), (scheduled.SiteId, scheduled.StudyInstanceUid));
        Assert.StartsWith(code + ": ", scheduled.Detail, StringComparison.Ordinal);
        Assert.Contains("round 2 of 3 at 2025-03-03T09:05:00Z", scheduled.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_scheduled_retry_is_audited_as_a_transfer_outcome_restarted()
    {
        Assert.Equal(OrchestrationAuditMapper.Classify(AuditAction.StudyFailed), OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled));
        Assert.Equal(("110104", "C"), (OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled).EventId.Code, OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled).ActionCode));
    }

    [Fact]
    public void The_retry_timer_starts_a_new_round_over_every_site_holding_the_study()
    {
        var h = HeldByTwoSites();
        FailCurrent(h, Uid1, FailureReason.PacsUnreachable); // chu-nord, attempt 1 -> clinique-sud
        Assert.Equal("clinique-sud", Assert.Single(h.Commands<RetrieveStudyActivity>()).SiteId);
        FailCurrent(h, Uid1, FailureReason.StagingFailed); // clinique-sud, attempt 2 -> no site left
        var timerId = Assert.Single(h.Commands<StartDurableTimer>()).CommandId;
        Assert.Equal(RetryTimer(Uid1, 2), timerId);

        h.Now += Interval;
        var fired = h.Timer(timerId);
        Assert.Equal(DispositionKind.Applied, fired.Disposition.Kind);
        var retrieve = Assert.Single(h.Commands<RetrieveStudyActivity>());
        Assert.Equal(("chu-nord", Harness.Retrieve(Uid1, 3)), (retrieve.SiteId, retrieve.CommandId));
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Retrieving, 2, "staging_failed"), (study.Status, study.RetrievalRound, study.Failure?.Code));
        Assert.Null(study.NextAttemptAt);
        Assert.Null(study.RetryTimerId);
        var started = Assert.Single(Records(fired));
        Assert.Equal((AuditAction.RetrievalStarted, "attempt=3 round=2"), (started.Action, started.Detail));

        // Both sites are eligible again in the new round: chu-nord fails, clinique-sud is tried next.
        FailCurrent(h, Uid1, FailureReason.Timeout);
        Assert.Equal(("clinique-sud", Harness.Retrieve(Uid1, 4)), (h.Commands<RetrieveStudyActivity>().Single().SiteId, h.Commands<RetrieveStudyActivity>().Single().CommandId));
        h.Completed("clinique-sud", Uid1, attempt: 4);
        h.Stored(Uid1, attempt: 4);
        Assert.Equal((StudyStatus.Available, RegistrationStatus.Completed), (h.Study(Uid1).Status, h.State.Status));
        Assert.Null(h.Study(Uid1).Failure);
    }

    [Fact]
    public void When_the_rounds_are_exhausted_the_study_fails_with_its_last_reason()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Now += Interval;
        h.Timer(RetryTimer(Uid1, 1));
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Now += Interval;
        h.Timer(RetryTimer(Uid1, 2));
        var last = FailCurrent(h, Uid1, FailureReason.PacsUnreachable);

        Assert.Empty(h.Commands<StartDurableTimer>());
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Failed, "pacs_unreachable", 3), (study.Status, study.Failure?.Code, study.Attempt));
        Assert.Null(study.NextAttemptAt);
        var final = Assert.Single(Records(last), r => r.Outcome == AuditOutcome.SeriousFailure);
        Assert.Equal((AuditAction.StudyFailed, "pacs_unreachable rounds=3"), (final.Action, final.Detail));
        Assert.Equal(2, h.History.OfType<DurableTimerFired>().Count());
    }

    [Fact]
    public void One_retrieval_round_in_the_settings_disables_the_automatic_retry()
    {
        var h = HeldByOneSite(OrchestrationSettings.Default with { MaxRetrievalRounds = 1 });
        var failed = FailCurrent(h, Uid1, FailureReason.StagingFailed);
        Assert.Empty(h.Commands<StartDurableTimer>());
        Assert.Equal((StudyStatus.Failed, "staging_failed"), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code));
        Assert.DoesNotContain(Records(failed), r => r.Action == AuditAction.RetrievalRetryScheduled);
    }

    [Fact]
    public void The_retry_interval_comes_from_the_plan()
    {
        var h = HeldByOneSite(OrchestrationSettings.Default with { RetrievalRetryInterval = TimeSpan.FromSeconds(3) });
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        Assert.Equal(h.Now.AddSeconds(3), Assert.Single(h.Commands<StartDurableTimer>()).FireAt);
    }

    [Theory]
    [InlineData(FailureReason.StudyNotFound, "study_not_found")]
    [InlineData(FailureReason.PacsRejected, "pacs_rejected")]
    [InlineData(FailureReason.InvalidCommand, "invalid_command")]
    [InlineData(FailureReason.Unknown, "unknown")]
    [InlineData(FailureReason.Cancelled, "cancelled")]
    public void A_permanent_cause_fails_the_study_at_once(FailureReason reason, string code)
    {
        var h = HeldByOneSite();
        var failed = FailCurrent(h, Uid1, reason);
        Assert.Empty(h.Commands<StartDurableTimer>());
        Assert.Equal((StudyStatus.Failed, code), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code));
        Assert.Contains(Records(failed), r => r.Action == AuditAction.StudyFailed && r.Outcome == AuditOutcome.SeriousFailure && r.Detail == code);
    }

    [Fact]
    public void The_last_failure_decides_a_transient_one_followed_by_a_permanent_one_fails()
    {
        var h = HeldByTwoSites();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        FailCurrent(h, Uid1, FailureReason.StudyNotFound);
        Assert.Empty(h.Commands<StartDurableTimer>());
        Assert.Equal((StudyStatus.Failed, "study_not_found"), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code));
    }

    [Fact]
    public void An_empty_study_and_a_store_failure_are_not_retried()
    {
        var h = HeldByOneSite();
        h.Apply(new RetrievalFinished("empty", h.Now, "chu-nord", Harness.Retrieve(Uid1), Uid1, Fixtures.Listed([], Uid1)));
        Assert.Empty(h.Commands<StartDurableTimer>());
        Assert.Equal((StudyStatus.Failed, "empty_study"), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code));

        h.Completed("chu-nord", Uid2);
        h.Apply(new StoreStudyFailed("sf", h.Now, Harness.Store(Uid2), Uid2, "STOW-RS answered 503."));
        Assert.Empty(h.Commands<StartDurableTimer>());
        Assert.Equal((StudyStatus.Failed, "store_failed"), (h.Study(Uid2).Status, h.Study(Uid2).Failure?.Code));
    }

    [Fact]
    public void A_re_selection_while_waiting_starts_at_once_and_the_timer_becomes_stale()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Now += TimeSpan.FromMinutes(1);
        h.Select(Uid1);

        var retrieve = Assert.Single(h.Commands<RetrieveStudyActivity>());
        Assert.Equal(("chu-nord", Harness.Retrieve(Uid1, 2)), (retrieve.SiteId, retrieve.CommandId));
        var study = h.Study(Uid1);
        Assert.Equal((StudyStatus.Retrieving, 1), (study.Status, study.RetrievalRound));
        Assert.Null(study.RetryTimerId);
        Assert.Null(study.NextAttemptAt);

        h.Now += Interval;
        var late = h.Timer(RetryTimer(Uid1, 1));
        Assert.Equal((DispositionKind.Ignored, DispositionReason.Stale), (late.Disposition.Kind, late.Disposition.Reason));
        Assert.Empty(late.Commands);
        Assert.Equal(Harness.Retrieve(Uid1, 2), h.Study(Uid1).CurrentCommandId);

        // The re-selection gave the study a fresh budget of rounds: a transient failure schedules a retry again.
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        Assert.Equal(RetryTimer(Uid1, 2), Assert.Single(h.Commands<StartDurableTimer>()).CommandId);
    }

    [Fact]
    public void A_timer_of_a_study_deleted_while_waiting_is_stale()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Apply(new StudyDeleteRequested("del", h.Now, Uid1, "dr-barbe"));
        Assert.Empty(h.Commands<CancelRelayCommand>()); // nothing in flight while waiting
        Assert.Single(h.Commands<DeleteStudyActivity>()); // a partial retrieval may be in staging
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid1).Status);
        Assert.Null(h.Study(Uid1).NextAttemptAt);

        h.Now += Interval;
        var late = h.Timer(RetryTimer(Uid1, 1));
        Assert.Equal(DispositionReason.Stale, late.Disposition.Reason);
        Assert.Empty(late.Commands);
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid1).Status);
    }

    [Fact]
    public void A_timer_of_a_purged_registration_is_ignored()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        Assert.Equal((StudyStatus.Purged, RegistrationStatus.Purged), (h.Study(Uid1).Status, h.State.Status));
        Assert.Null(h.Study(Uid1).NextAttemptAt);

        var late = h.Timer(RetryTimer(Uid1, 1));
        Assert.Equal((DispositionKind.Ignored, DispositionReason.RegistrationPurged), (late.Disposition.Kind, late.Disposition.Reason));
        Assert.Empty(late.Commands);
    }

    [Fact]
    public void A_timer_of_a_study_that_moved_on_is_stale()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        h.Select(Uid1);
        h.Completed("chu-nord", Uid1, attempt: 2);
        h.Stored(Uid1, attempt: 2);
        Assert.Equal(StudyStatus.Available, h.Study(Uid1).Status);

        var late = h.Timer(RetryTimer(Uid1, 1));
        Assert.Equal(DispositionReason.Stale, late.Disposition.Reason);
        Assert.Empty(late.Commands);
        Assert.Equal(StudyStatus.Available, h.Study(Uid1).Status);
    }

    [Fact]
    public void A_duplicate_timer_event_starts_one_attempt_only()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        var timerId = RetryTimer(Uid1, 1);
        h.Now += Interval;
        h.Timer(timerId);
        Assert.Single(h.Commands<RetrieveStudyActivity>());

        // The same event again (delivered twice) is a duplicate; another delivery of the same timer under another
        // event id (beyond the remembered ids) is stale: the study no longer waits for that timer.
        var again = h.Timer(timerId);
        Assert.Equal((DispositionReason.DuplicateEvent, 0), (again.Disposition.Reason, again.Commands.Length));
        var redelivered = h.Apply(new DurableTimerFired("redelivered", h.Now, timerId));
        Assert.Equal((DispositionReason.Stale, 0), (redelivered.Disposition.Reason, redelivered.Commands.Length));
        Assert.Equal(Harness.Retrieve(Uid1, 2), h.Study(Uid1).CurrentCommandId);
    }

    [Fact]
    public void Late_answers_of_the_failed_attempt_are_stale_while_waiting()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        Assert.Equal(DispositionReason.Stale, h.Completed("chu-nord", Uid1, attempt: 1).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Failed("chu-nord", Harness.Retrieve(Uid1, 1), FailureReason.StagingFailed).Disposition.Reason);
        Assert.Equal(StudyStatus.Pending, h.Study(Uid1).Status);
    }

    [Fact]
    public void A_waiting_study_survives_a_json_round_trip_and_a_plan_saved_before_the_retry_settings_keeps_failing_at_once()
    {
        var h = HeldByOneSite();
        FailCurrent(h, Uid1, FailureReason.StagingFailed);
        var json = JsonSerializer.Serialize(h.State, OrchestrationJsonContext.Default.RegistrationState);
        var back = JsonSerializer.Deserialize(json, OrchestrationJsonContext.Default.RegistrationState)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, OrchestrationJsonContext.Default.RegistrationState));
        Assert.Equal(h.Study(Uid1).NextAttemptAt, back.SelectedOf(Uid1)!.NextAttemptAt);

        var fired = RegistrationOrchestrator.Apply(back, new DurableTimerFired(RetryTimer(Uid1, 1), h.Now + Interval, RetryTimer(Uid1, 1)));
        Assert.Single(fired.Commands.OfType<RetrieveStudyActivity>());

        // A registration started before the retry settings existed replays as it did: its plan reads 0 rounds, so a
        // transient failure at the last site still fails the study (nothing is retried that the plan never asked for).
        var fresh = HeldByOneSite();
        var before = JsonSerializer.Serialize(fresh.State, OrchestrationJsonContext.Default.RegistrationState);
        var old = before.Replace(",\"retrievalRetryInterval\":\"00:05:00\",\"maxRetrievalRounds\":3", string.Empty, StringComparison.Ordinal);
        Assert.NotEqual(before, old);
        var restored = JsonSerializer.Deserialize(old, OrchestrationJsonContext.Default.RegistrationState)!;
        Assert.Equal(0, restored.Plan!.Settings.MaxRetrievalRounds);
        var failed = RegistrationOrchestrator.Apply(restored, new RelayCommandFailed("f", h.Now, "chu-nord", Harness.Retrieve(Uid1), FailureReason.StagingFailed, "x"));
        Assert.Equal((StudyStatus.Failed, "staging_failed"), (failed.State.SelectedOf(Uid1)!.Status, failed.State.SelectedOf(Uid1)!.Failure?.Code));
        Assert.Empty(failed.Commands.OfType<StartDurableTimer>());
    }
}
