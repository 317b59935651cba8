using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>Properties over random event sequences: relevant, stale, unknown and reordered events mixed.</summary>
public class DeterminismPropertyTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";

    private static readonly string[] Uids = [Uid1, Uid2, "6.6.6"];

    private static string Json(RegistrationState s) => JsonSerializer.Serialize(s, OrchestrationJsonContext.Default.RegistrationState);

    private static string Json(IEnumerable<OrchestrationCommand> commands) =>
        JsonSerializer.Serialize(commands.ToList(), OrchestrationJsonContext.Default.IReadOnlyListOrchestrationCommand);

    /// <summary>
    /// One random event; ids come from a small pool so duplicates and collisions happen. Selections, deletions and
    /// transfer outcomes (of the first transfers mostly) come more often, so studies do go through their transfers.
    /// </summary>
    private static Gen<OrchestrationEvent> EventGen()
    {
        var at = Gen.Choose(0, 30 * 24 * 60).Select(m => Fixtures.T0.AddMinutes(m));
        var site = Gen.Elements(Fixtures.Sites.Add("nowhere").ToArray());
        var uid = Gen.Elements(Uids);
        var round = Gen.Choose(1, 2);
        var attempt = Gen.Choose(1, 4);
        var id = Gen.Choose(0, 40).Select(i => "e" + i);
        var reason = Gen.Elements(Enum.GetValues<FailureReason>());
        var transfer = Gen.Frequency((3, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)));

        return Gen.Frequency(
            (2, from e in id from t in at from s in site from r in round from a in attempt
                from studies in Gen.SubListOf(new[] { Fixtures.Study(Uid1), Fixtures.Study(Uid2), Fixtures.Study("9.9", Fixtures.PacsPatientOther()) })
                select (OrchestrationEvent)new StudiesFoundAtSite(e, t, s, Harness.Find(s, r, a), [.. studies])),
            (1, from e in id from t in at from s in site from r in round from a in attempt from why in reason
                select (OrchestrationEvent)new RelayCommandFailed(e, t, s, Harness.Find(s, r, a), why, "x")),
            (1, from e in id from t in at from s in site from r in round from a in attempt from b in Gen.Choose(1, 3) from why in reason
                select (OrchestrationEvent)new FindAttemptStarted(e, t, s, r, a, b, a > 1 ? why : null)),
            (1, from e in id from t in at from s in site from r in round from a in attempt from why in reason from wait in Gen.Elements(true, false)
                select (OrchestrationEvent)new SiteSearchFailed(e, t, s, r, a, why, wait ? t.AddMinutes(10) : null)),
            (1, from e in id from t in at
                select (OrchestrationEvent)new DurableTimerFired(e, t, CommandIds.PurgeTimer(Fixtures.RegistrationId))),
            (1, from e in id from t in at from s in site from up in Gen.Elements(true, false)
                select (OrchestrationEvent)new SiteHeartbeat(e, t, s, up)),
            (5, from e in id from t in at from s in site from u in uid from n in transfer from result in Gen.Elements(Enum.GetValues<StudyTransferResult>())
                from stored in Gen.Choose(0, 3) from mayHaveStored in Gen.Elements(true, false) from why in reason
                select (OrchestrationEvent)new StudyTransferSettled(e, t, new StudyTransferOutcome(
                    Harness.Transfer(u, n), u, result, s, 1, result == StudyTransferResult.Available ? stored : 0,
                    result == StudyTransferResult.Failed ? new StudyFailure(RelayFailures.CodeOf(why), "x") : null, mayHaveStored))),

            // A retrieval's answers go to its transfer; one that reaches the registration anyway changes nothing.
            (1, from e in id from t in at from s in site from u in uid from n in transfer from kind in Gen.Choose(0, 3) from why in reason
                select RetrievalAnswer(kind, e, t, s, u, Harness.Transfer(u, n), why)),
            (3, from e in id from t in at from us in Gen.SubListOf(Uids)
                select (OrchestrationEvent)new SelectionMade(e, t, [.. us], "dr")),
            (1, from e in id from t in at
                select (OrchestrationEvent)new RefreshRequested(e, t, "dr")),
            (2, from e in id from t in at from u in uid
                select (OrchestrationEvent)new StudyDeleteRequested(e, t, u, "dr")),
            (1, from e in id from t in at
                select (OrchestrationEvent)new ExpertiseRequested(e, t, "dr")),
            (1, from e in id from t in at from u in uid from a in Gen.Choose(1, 3) from ok in Gen.Elements(true, false)
                select ok
                    ? (OrchestrationEvent)new RemovalCompleted(e, t, CommandIds.Delete(Fixtures.RegistrationId, u, a), 1, 1)
                    : new RemovalFailed(e, t, CommandIds.Delete(Fixtures.RegistrationId, u, a), "dicom_service_405", "x")),
            (1, from e in id from t in at from ok in Gen.Elements(true, false)
                select ok
                    ? (OrchestrationEvent)new RemovalCompleted(e, t, CommandIds.Purge(Fixtures.RegistrationId), 2, 3)
                    : new RemovalFailed(e, t, CommandIds.Purge(Fixtures.RegistrationId), "dicom_service_400", "x")),
            (1, from e in id from t in at from ok in Gen.Elements(true, false)
                select ok
                    ? (OrchestrationEvent)new ExpertiseEmailSent(e, t, CommandIds.ExpertiseEmail(Fixtures.RegistrationId), "m")
                    : new ExpertiseEmailFailed(e, t, CommandIds.ExpertiseEmail(Fixtures.RegistrationId), "m", "smtp_550", "x")));
    }

    private static OrchestrationEvent RetrievalAnswer(int kind, string id, DateTimeOffset at, string site, string uid, string transferId, FailureReason why) => kind switch
    {
        0 => new RetrievalProgressed(id, at, site, CommandIds.Retrieve(transferId, 1), uid, 1, 2, 100, Fixtures.Listed(Fixtures.Manifest(uid, 1), uid)),
        1 => new RetrievalFinished(id, at, site, CommandIds.Retrieve(transferId, 1), uid, Fixtures.Listed(Fixtures.Manifest(uid, 2), uid)),
        2 => new StoreStudyCompleted(id, at, CommandIds.Store(transferId, 1), uid, 2),
        _ => new RelayCommandFailed(id, at, site, CommandIds.Retrieve(transferId, 1), why, "x"),
    };

    /// <summary>Half the histories start with every site's answer to round 1 (two studies of the patient, one of another).</summary>
    private static Gen<(AutoSelectMode Mode, List<OrchestrationEvent> Events)> HistoryGen() =>
        from mode in Gen.Elements(AutoSelectMode.Manual, AutoSelectMode.AllCandidates)
        from answered in Gen.Elements(true, false)
        from events in Gen.ListOf(EventGen())
        select (mode, answered ? [.. EverySiteAnswered(), .. events] : events);

    private static List<OrchestrationEvent> EverySiteAnswered() =>
    [
        new StudiesFoundAtSite("answer-ch-est", Fixtures.T0, "ch-est", Harness.Find("ch-est"), [Fixtures.Study("9.9", Fixtures.PacsPatientOther())]),
        new StudiesFoundAtSite("answer-chu-nord", Fixtures.T0, "chu-nord", Harness.Find("chu-nord"), [Fixtures.Study(Uid1), Fixtures.Study(Uid2)]),
        new StudiesFoundAtSite("answer-clinique-sud", Fixtures.T0, "clinique-sud", Harness.Find("clinique-sud"), [Fixtures.Study(Uid1)]),
    ];

    // Started, and each site asked once (as the orchestration's site searches do at once).
    private static RegistrationState Started(AutoSelectMode mode) =>
        RegistrationOrchestrator.Replay(
            RegistrationState.Create(Fixtures.RegistrationId),
            [
                new RegistrationStarted("start", Fixtures.T0, Fixtures.Plan(new AutoSelectPolicy(mode))),
                .. Fixtures.Sites.Select(s => new FindAttemptStarted(Harness.Find(s), Fixtures.T0, s, 1, 1, 1)),
            ]).State;

    [Property(MaxTest = 200)]
    public Property Replaying_the_same_events_twice_yields_identical_state_and_commands() =>
        Prop.ForAll(
            HistoryGen().ToArbitrary(),
            history =>
            {
                var first = RegistrationOrchestrator.Replay(Started(history.Mode), history.Events);
                var second = RegistrationOrchestrator.Replay(Started(history.Mode), history.Events);
                return Json(first.State) == Json(second.State) && Json(first.Commands) == Json(second.Commands);
            });

    [Property(MaxTest = 200)]
    public Property Applying_any_processed_event_again_changes_nothing_and_emits_nothing() =>
        Prop.ForAll(
            HistoryGen().ToArbitrary(),
            history =>
            {
                var state = Started(history.Mode);
                foreach (var e in history.Events)
                {
                    state = RegistrationOrchestrator.Apply(state, e).State;
                    var again = RegistrationOrchestrator.Apply(state, e);
                    if (!ReferenceEquals(again.State, state) || !again.Commands.IsEmpty || again.Disposition.Reason != DispositionReason.DuplicateEvent)
                    {
                        return false;
                    }
                }

                return true;
            });

    [Property(MaxTest = 200)]
    public Property Any_sequence_keeps_the_state_consistent_and_never_throws() =>
        Prop.ForAll(
            HistoryGen().ToArbitrary(),
            history =>
            {
                var (state, commands) = RegistrationOrchestrator.Replay(Started(history.Mode), history.Events);
                var sortedSites = state.Sites.Select(s => s.SiteId).SequenceEqual(state.Sites.Select(s => s.SiteId).Order(StringComparer.Ordinal));
                var selectedAreCandidates = state.Selected.All(s => state.Candidates.Any(c => c.StudyInstanceUid == s.StudyInstanceUid));
                var onlyMatchingPatient = state.Candidates.All(c => c.StudyInstanceUid != "9.9");
                var neverUnknownStudy = state.Selected.All(s => s.StudyInstanceUid != "6.6.6");
                var oneEmailAtMost = commands.OfType<SendExpertiseEmailActivity>().Count() <= 1;
                var onePurgeAtMost = commands.OfType<PurgeStudiesActivity>().Count() <= 1;
                var statusConsistent = state.Status == RegistrationOrchestrator.DeriveStatus(state);

                // A study in flight is in its current transfer, numbered by its selections; the registration itself never
                // waits for a retry (the transfer does), and no study stays Pending or Storing.
                var inTransfer = state.Selected.Where(s => s.Status == StudyStatus.Retrieving)
                    .All(s => s.CurrentCommandId == CommandIds.StudyTransfer(Fixtures.RegistrationId, s.StudyInstanceUid, s.Attempt));
                var settledHaveNoTransfer = state.Selected.Where(s => s.IsSettled).All(s => s.CurrentCommandId is null);
                var neverWaiting = state.Selected.All(s => s.NextAttemptAt is null && s.Status is not (StudyStatus.Pending or StudyStatus.Storing));

                // Every transfer is started once; only one in flight is cancelled, once; no retrieval or store is the registration's.
                var started = commands.OfType<StartStudyTransfer>().Select(c => c.Input.TransferId).ToList();
                var cancelled = commands.OfType<CancelStudyTransfer>().Select(c => c.TransferId).ToList();
                var transfersOnce = started.Distinct(StringComparer.Ordinal).Count() == started.Count
                    && cancelled.Distinct(StringComparer.Ordinal).Count() == cancelled.Count && cancelled.All(started.Contains)
                    && commands.OfType<StartStudyTransfer>().All(c => c.CommandId == c.Input.TransferId);
                var noRetrieval = !commands.Any(c => c is RetrieveStudyActivity or StoreStudyActivity or StoreStagedInstancesActivity
                    || (c is CancelRelayCommand cancel && cancel.CommandIdToCancel.Contains(":transfer:", StringComparison.Ordinal)));
                return sortedSites && selectedAreCandidates && onlyMatchingPatient && neverUnknownStudy && oneEmailAtMost && onePurgeAtMost && statusConsistent
                    && inTransfer && settledHaveNoTransfer && neverWaiting && transfersOnce && noRetrieval;
            });

    [Property(MaxTest = 200)]
    public Property The_audit_trail_of_any_history_is_numbered_densely_in_recorded_order_with_one_outcome_per_sent_work() =>
        Prop.ForAll(
            HistoryGen().ToArbitrary(),
            history =>
            {
                var start = RegistrationOrchestrator.Apply(RegistrationState.Create(Fixtures.RegistrationId), new RegistrationStarted("start", Fixtures.T0, Fixtures.Plan(new AutoSelectPolicy(history.Mode), expertise: true)));
                var (state, commands) = RegistrationOrchestrator.Replay(start.State, history.Events);
                var records = start.Commands.Concat(commands).OfType<WriteAuditActivity>().ToList();
                var dense = records.Select(r => r.Sequence).SequenceEqual(Enumerable.Range(1, records.Count).Select(i => (long)i)) && state.AuditSequence == records.Count;
                var neverBack = records.Zip(records.Skip(1)).All(p => p.First.RecordedAt <= p.Second.RecordedAt);

                // Every e-mail and removal sent out has at most one outcome record, and only after it was sent.
                var emailOutcomes = records.Count(r => r.Action is AuditAction.ExpertiseSent or AuditAction.ExpertiseFailed);
                var emailSent = commands.OfType<SendExpertiseEmailActivity>().Count();
                var removalsSent = commands.Count(c => c is DeleteStudyActivity or PurgeStudiesActivity);
                var removalOutcomes = records.Count(r => r.Action is AuditAction.StudyDeleted or AuditAction.StudyDeletionFailed or AuditAction.Purged or AuditAction.PurgeFailed);
                var removalDecisions = records.Count(r => r.Action is AuditAction.StudyDeletionStarted or AuditAction.PurgeStarted);
                return dense && neverBack && emailOutcomes <= emailSent && removalDecisions == removalsSent && removalOutcomes <= removalsSent
                    && removalOutcomes + state.PendingRemovals.Length == removalsSent;
            });
}
