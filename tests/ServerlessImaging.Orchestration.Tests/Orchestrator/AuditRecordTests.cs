using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>
/// What the orchestration records and when: outcomes after the work was done (e-mail accepted by the relay, study
/// removed, purge finished), nothing of its own for a study's transfer (the transfer keeps its own trail), a dense
/// per-registration sequence and a recorded-at time that never goes back.
/// </summary>
public class AuditRecordTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";

    private static readonly string EmailCommand = CommandIds.ExpertiseEmail(Fixtures.RegistrationId);

    private static List<WriteAuditActivity> Records(Transition transition) => [.. transition.Commands.OfType<WriteAuditActivity>()];

    private static Harness Available(bool expertise = false)
    {
        var h = new Harness(Fixtures.Plan(expertise: expertise));
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));
        h.Select(Uid1, Uid2);
        h.Available(Uid1);
        return h;
    }

    [Fact]
    public void The_expertise_email_is_recorded_once_when_the_relay_accepted_it_not_when_it_is_sent_out()
    {
        var h = Available(expertise: true);
        Assert.Single(h.Commands<SendExpertiseEmailActivity>());
        Assert.DoesNotContain(Records(h.Last), r => r.Action is AuditAction.ExpertiseSent or AuditAction.ExpertiseFailed);
        Assert.Equal(ExpertiseStatus.Sending, h.State.Expertise);

        var sent = h.Apply(new ExpertiseEmailSent(EmailCommand + "/sent", h.Now, EmailCommand, "msg-1@si"));
        var record = Assert.Single(Records(sent));
        Assert.Equal((AuditAction.ExpertiseSent, AuditOutcome.Success, "msg-1@si"), (record.Action, record.Outcome, record.MessageId));
        Assert.Equal([Fixtures.Radiologist.Email, Fixtures.NuclearPhysician.Email], record.Recipients);
        Assert.Equal(ExpertiseStatus.Sent, h.State.Expertise);

        // The activity re-run after a crash reports again (another event id): nothing more is recorded.
        var again = h.Apply(new ExpertiseEmailSent(EmailCommand + "/sent-rerun", h.Now, EmailCommand, "msg-1@si"));
        Assert.Equal((DispositionKind.Ignored, DispositionReason.Stale), (again.Disposition.Kind, again.Disposition.Reason));
        Assert.Empty(again.Commands);
        Assert.Empty(h.Apply(new ExpertiseEmailFailed(EmailCommand + "/failed", h.Now, EmailCommand, "msg-1@si", "delivery_unconfirmed", "x")).Commands);
    }

    [Fact]
    public void An_expertise_email_that_failed_for_good_leaves_a_failure_record_with_its_reason_code()
    {
        var h = Available(expertise: true);
        var failed = h.Apply(new ExpertiseEmailFailed(EmailCommand + "/failed", h.Now, EmailCommand, "msg-1@si", "smtp_550", "The SMTP relay refused the e-mail for good."));

        var record = Assert.Single(Records(failed));
        Assert.Equal((AuditAction.ExpertiseFailed, AuditOutcome.SeriousFailure), (record.Action, record.Outcome));
        Assert.StartsWith("smtp_550: ", record.Detail, StringComparison.Ordinal);
        Assert.Equal(ExpertiseStatus.Failed, h.State.Expertise);
        Assert.Equal(DispositionReason.NothingToDo, h.Apply(new ExpertiseRequested("exp-again", h.Now, "dr")).Disposition.Reason);
    }

    [Fact]
    public void A_deletion_is_recorded_when_decided_with_who_asked_and_again_when_the_removal_completed()
    {
        var h = Available();
        var decided = h.Apply(new StudyDeleteRequested("del", h.Now, Uid1, "dr-barbe"));
        var delete = Assert.Single(h.Commands<DeleteStudyActivity>());
        var started = Assert.Single(Records(decided));
        Assert.Equal((AuditAction.StudyDeletionStarted, "dr-barbe", Uid1), (started.Action, started.Actor, started.StudyInstanceUid));
        Assert.DoesNotContain(Records(decided), r => r.Action == AuditAction.StudyDeleted);

        var done = h.Apply(new RemovalCompleted(delete.CommandId + "/completed", h.Now, delete.CommandId, 1, 2));
        var deleted = Assert.Single(Records(done));
        Assert.Equal((AuditAction.StudyDeleted, AuditOutcome.Success, "dr-barbe", "chu-nord"), (deleted.Action, deleted.Outcome, deleted.Actor, deleted.SiteId));
        Assert.Contains("stagingBlobs=2", deleted.Detail, StringComparison.Ordinal);

        Assert.Empty(h.Apply(new RemovalCompleted(delete.CommandId + "/completed-again", h.Now, delete.CommandId, 1, 0)).Commands);
        Assert.Empty(h.Apply(new RemovalFailed(delete.CommandId + "/failed", h.Now, delete.CommandId, "dicom_service_405", "x")).Commands);
    }

    [Fact]
    public void A_failed_removal_leaves_a_failure_record_and_marks_the_deleted_study()
    {
        var h = Available();
        h.Apply(new StudyDeleteRequested("del", h.Now, Uid1, "dr-barbe"));
        var delete = Assert.Single(h.Commands<DeleteStudyActivity>());

        var failed = h.Apply(new RemovalFailed(delete.CommandId + "/failed", h.Now, delete.CommandId, "dicom_service_405", "The DICOM service refused the deletion."));
        var record = Assert.Single(Records(failed));
        Assert.Equal((AuditAction.StudyDeletionFailed, AuditOutcome.SeriousFailure, "dr-barbe"), (record.Action, record.Outcome, record.Actor));
        Assert.StartsWith("dicom_service_405: ", record.Detail, StringComparison.Ordinal);
        Assert.Equal((StudyStatus.Deleted, "removal_failed"), (h.Study(Uid1).Status, h.Study(Uid1).Failure?.Code));
    }

    [Fact]
    public void The_purge_is_recorded_when_it_falls_due_and_when_the_activity_finished_even_though_the_instance_is_purged()
    {
        var h = Available();
        h.Now = Fixtures.MeetingStart.AddDays(30);
        var due = h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        var purge = Assert.Single(h.Commands<PurgeStudiesActivity>());
        var started = Assert.Single(Records(due));
        Assert.Equal(AuditAction.PurgeStarted, started.Action);
        Assert.Equal([Uid1, Uid2], started.StudyInstanceUids);

        var done = h.Apply(new RemovalCompleted(purge.CommandId + "/completed", h.Now, purge.CommandId, 2, 5));
        Assert.Equal(DispositionKind.Applied, done.Disposition.Kind);
        var purged = Assert.Single(Records(done));
        Assert.Equal((AuditAction.Purged, AuditOutcome.Success), (purged.Action, purged.Outcome));
        Assert.Equal("studies=2 stagingBlobs=5", purged.Detail);
        Assert.Equal([Uid1, Uid2], purged.StudyInstanceUids);
        Assert.Empty(h.State.PendingRemovals);
    }

    [Fact]
    public void A_purge_that_failed_for_good_leaves_a_failure_record()
    {
        var h = Available();
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        var purge = Assert.Single(h.Commands<PurgeStudiesActivity>());
        var failed = h.Apply(new RemovalFailed(purge.CommandId + "/failed", h.Now, purge.CommandId, "dicom_service_400", "refused"));
        var record = Assert.Single(Records(failed));
        Assert.Equal((AuditAction.PurgeFailed, AuditOutcome.SeriousFailure), (record.Action, record.Outcome));
    }

    [Fact]
    public void A_transfers_start_and_outcome_leave_no_record_in_the_registrations_trail_which_the_transfer_keeps_itself()
    {
        var h = new Harness();
        h.AllSitesAnswer(Fixtures.Study(Uid1), Fixtures.Study(Uid2));

        var selected = h.Select(Uid1, Uid2);
        Assert.Equal([AuditAction.SelectionMade], Records(selected).Select(r => r.Action));
        var sequence = h.State.AuditSequence;

        Assert.Empty(Records(h.Available(Uid1)));
        Assert.Empty(Records(h.TransferFailed(Uid2, new StudyFailure("pacs_rejected", "refused"))));
        Assert.Equal(sequence, h.State.AuditSequence);
    }

    [Fact]
    public void The_transfers_records_map_as_transfers_a_scheduled_retry_as_one_restarted()
    {
        Assert.Equal(OrchestrationAuditMapper.Classify(AuditAction.StudyFailed), OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled));
        Assert.Equal(("110104", "C"), (OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled).EventId.Code, OrchestrationAuditMapper.Classify(AuditAction.RetrievalRetryScheduled).ActionCode));
        Assert.Equal(("110104", "C"), (OrchestrationAuditMapper.Classify(AuditAction.RetrievalCompleted).EventId.Code, OrchestrationAuditMapper.Classify(AuditAction.RetrievalCompleted).ActionCode));
        Assert.Equal("110107", OrchestrationAuditMapper.Classify(AuditAction.StudyStoreFailed).EventId.Code);
    }

    [Fact]
    public void Sequence_numbers_are_dense_and_recorded_at_never_goes_back_even_with_an_earlier_clock()
    {
        var state = RegistrationState.Create(Fixtures.RegistrationId);
        var records = new List<WriteAuditActivity>();
        var clock = Fixtures.T0.AddMinutes(10);
        void Apply(OrchestrationEvent e, DateTimeOffset recordedAt)
        {
            var t = RegistrationOrchestrator.Apply(state, e, recordedAt);
            state = t.State;
            records.AddRange(t.Commands.OfType<WriteAuditActivity>());
        }

        Apply(new RegistrationStarted("start", Fixtures.T0, Fixtures.Plan()), clock);
        foreach (var site in Fixtures.Sites)
        {
            Apply(new FindAttemptStarted(Harness.Find(site), Fixtures.T0, site, 1, 1, 1), clock);
        }

        Apply(new StudiesFoundAtSite("f1", Fixtures.T0, "ch-est", Harness.Find("ch-est"), []), clock.AddSeconds(1));

        // Another instance with a clock one minute behind commits the next steps.
        Apply(new StudiesFoundAtSite("f2", Fixtures.T0, "chu-nord", Harness.Find("chu-nord"), [Fixtures.Study(Uid1)]), clock.AddMinutes(-1));
        Apply(new StudiesFoundAtSite("f3", Fixtures.T0, "clinique-sud", Harness.Find("clinique-sud"), []), clock.AddSeconds(2));
        Apply(new SelectionMade("s", Fixtures.T0, [Uid1], "dr"), clock.AddSeconds(3));

        Assert.Equal(Enumerable.Range(1, records.Count).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(records.Count, state.AuditSequence);
        Assert.All(records.Zip(records.Skip(1)), pair => Assert.True(pair.First.RecordedAt <= pair.Second.RecordedAt));
        Assert.Equal(clock.AddSeconds(1), records.Single(r => r.Action == AuditAction.SiteSearched && r.SiteId == "chu-nord").RecordedAt);
        Assert.All(records, r => Assert.Equal(Fixtures.T0, r.At)); // the event time stays apart
    }

    [Fact]
    public void The_mapper_files_records_under_their_recorded_at_day_with_sequence_participants_and_objects()
    {
        var recordedAt = new DateTimeOffset(2025, 3, 4, 0, 0, 1, TimeSpan.Zero);
        var retrieval = new WriteAuditActivity("reg-0001/audit/v5/0", "reg-0001", recordedAt.AddSeconds(-2), AuditAction.RetrievalCompleted, AuditOutcome.Success, "pk1-test", null, "chu-nord", Uid1, "instances=3")
        {
            Sequence = 7,
            RecordedAt = recordedAt,
            SourceAeTitle = "CHUNORD",
            DestinationAeTitle = "SI_RELAY",
        };
        var record = OrchestrationAuditMapper.Map(retrieval, "test");
        Assert.Equal(("110104", "C", 7L), (record.EventId.Code, record.ActionCode, record.Sequence));
        Assert.Equal(("2025-03-04", recordedAt, recordedAt.AddSeconds(-2)), (record.PartitionKey, record.RecordedAt, record.DateTime));
        Assert.Contains(record.ActiveParticipants, p => p is { UserId: "CHUNORD", Kind: "ae", Role: "source" });
        Assert.Contains(record.ActiveParticipants, p => p is { UserId: "SI_RELAY", Kind: "ae", Role: "destination" });
        Assert.Equal(AuditRecordIds.From("orchestration", retrieval.CommandId), record.Id);
        Assert.Null(record.Stream);
        Assert.Equal("reg-0001:transfer:1.2.3:t1", OrchestrationAuditMapper.Map(retrieval with { Stream = "reg-0001:transfer:1.2.3:t1" }, "test").Stream);

        var purged = OrchestrationAuditMapper.Map(retrieval with { Action = AuditAction.Purged, SiteId = null, StudyInstanceUid = null, StudyInstanceUids = [Uid1, Uid2], SourceAeTitle = null, DestinationAeTitle = null }, "test");
        Assert.Equal(("110105", "D"), (purged.EventId.Code, purged.ActionCode));
        Assert.Equal([Uid1, Uid2], purged.ParticipantObjects.Where(o => o.IdTypeCode == "110180").Select(o => o.Id));
        Assert.Contains(purged.ActiveParticipants, p => p.UserId == OrchestrationAuditMapper.DicomServiceId);

        Assert.Equal("110107", OrchestrationAuditMapper.Map(retrieval with { Action = AuditAction.StudyStored }, "test").EventId.Code);
        Assert.Equal("110102", OrchestrationAuditMapper.Map(retrieval with { Action = AuditAction.RetrievalStarted }, "test").EventId.Code);
        var email = OrchestrationAuditMapper.Map(retrieval with { Action = AuditAction.ExpertiseSent, SiteId = null, MessageId = "m@si", Recipients = ["radio@example.org"] }, "test");
        Assert.Contains(email.ParticipantObjects, o => o is { IdTypeCode: "message-id", Id: "m@si" });
        Assert.Contains(email.ActiveParticipants, p => p is { UserId: "radio@example.org", Role: "destination" });

        // A record command written before the fields existed: no sequence, the event time stands in for recorded-at.
        var legacy = OrchestrationAuditMapper.Map(new WriteAuditActivity("c", "reg-0001", recordedAt, AuditAction.SiteSearched, AuditOutcome.Success, "pk1-test", null, null, null, "x"), "test");
        Assert.Equal((null, recordedAt), (legacy.Sequence, legacy.RecordedAt));
    }
}
