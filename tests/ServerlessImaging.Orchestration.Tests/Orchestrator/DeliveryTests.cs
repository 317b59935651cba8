using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>Delivery to the meeting's destination: each available study and each manifest revision pushed through the destination site's relay, retried on a durable timer, stopped by a deletion or the purge.</summary>
public class DeliveryTests
{
    private const string A = "1.2.250.1.1";
    private const string B = "1.2.250.1.2";
    private const string MeetingSite = "clinique-sud";
    private static readonly MeetingDestination Target = new(MeetingSite, "RCP_PACS", "pacs.clinique-sud.local", 11112);

    [Fact]
    public void An_available_study_is_sent_to_the_destination_sites_relay_and_its_completion_is_audited_with_source_and_destination()
    {
        var h = Transferring(A);

        h.Available(A, count: 2);

        var deliver = Assert.Single(h.Commands<DeliverStudyActivity>());
        Assert.Equal((CommandIds.Deliver(Fixtures.RegistrationId, A, 1), MeetingSite, A, Target, (int?)2), (deliver.CommandId, deliver.SiteId, deliver.StudyInstanceUid, deliver.Destination, deliver.ExpectedInstanceCount));
        Assert.Empty(deliver.ExpectedSopInstanceUids);
        Assert.Contains(h.Commands<WriteAuditActivity>(), r => r.Action == AuditAction.DeliveryStarted && r.SiteId == MeetingSite && r.StudyInstanceUid == A);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        h.Apply(new DeliveryProgressed("p1", h.Now, MeetingSite, deliver.CommandId, A, 1, 2));
        Assert.Equal(1, h.State.DeliveryOf(A)!.InstancesDone);

        h.Apply(new DeliveryFinished("done", h.Now, MeetingSite, deliver.CommandId, A, 2, 2, 0, 1234, "RELAY_SUD", "RCP_PACS"));
        var record = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((AuditAction.DeliveryCompleted, "RELAY_SUD", "RCP_PACS"), (record.Action, record.SourceAeTitle, record.DestinationAeTitle));
        Assert.StartsWith("instances=2 sentNow=2 alreadyThere=0", record.Detail, StringComparison.Ordinal);
        Assert.Equal(DeliveryStatus.Delivered, h.State.DeliveryOf(A)!.Status);
        Assert.Equal(RegistrationStatus.Completed, h.State.Status);
    }

    [Fact]
    public void Without_a_destination_nothing_is_delivered()
    {
        var h = Transferring(A, delivery: null);

        h.Available(A);

        Assert.Empty(h.Commands<DeliverStudyActivity>());
        Assert.Empty(h.State.Deliveries);
    }

    [Fact]
    public void A_transient_failure_is_retried_on_a_durable_timer_with_a_new_command_and_a_permanent_one_fails_the_delivery()
    {
        var h = Transferring(A);
        h.Available(A);
        var first = Assert.Single(h.Commands<DeliverStudyActivity>());

        h.Apply(new DeliveryStopped("down", h.Now, MeetingSite, first.CommandId, A, "destination_unreachable", Transient: true, "no association"));
        var timer = Assert.Single(h.Commands<StartDurableTimer>());
        Assert.Equal(TimerPurpose.DeliverRetry, timer.Purpose);
        Assert.Equal(DeliveryStatus.WaitingForRetry, h.State.DeliveryOf(A)!.Status);
        Assert.Equal(AuditAction.DeliveryRetryScheduled, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
        Assert.Equal(RegistrationStatus.Retrieving, h.State.Status);

        h.Timer(timer.CommandId);
        var second = Assert.Single(h.Commands<DeliverStudyActivity>());
        Assert.Equal(CommandIds.Deliver(Fixtures.RegistrationId, A, 2), second.CommandId);

        // The first attempt's late answers are stale.
        Assert.Equal(DispositionReason.Stale, h.Apply(new DeliveryFinished("late", h.Now, MeetingSite, first.CommandId, A, 2, 2, 0, 1, null, null)).Disposition.Reason);

        h.Apply(new DeliveryStopped("refused", h.Now, MeetingSite, second.CommandId, A, "destination_refused", Transient: false, "refused"));
        Assert.Empty(h.Commands<StartDurableTimer>());
        var failed = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((AuditAction.DeliveryFailed, AuditOutcome.SeriousFailure), (failed.Action, failed.Outcome));
        Assert.Equal(("destination_refused", DeliveryStatus.Failed), (h.State.DeliveryOf(A)!.Failure!.Code, h.State.DeliveryOf(A)!.Status));
    }

    [Fact]
    public void Transient_failures_stop_after_the_last_round()
    {
        var h = Transferring(A);
        h.Available(A);
        for (var round = 1; round <= OrchestrationSettingsRounds; round++)
        {
            var attempt = Assert.Single(h.Commands<DeliverStudyActivity>());
            h.Apply(new DeliveryStopped("down-" + round, h.Now, MeetingSite, attempt.CommandId, A, "destination_unreachable", Transient: true, "down"));
            if (round < OrchestrationSettingsRounds)
            {
                h.Timer(Assert.Single(h.Commands<StartDurableTimer>()).CommandId);
            }
        }

        Assert.Equal(DeliveryStatus.Failed, h.State.DeliveryOf(A)!.Status);
        Assert.Equal(AuditAction.DeliveryFailed, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
    }

    [Fact]
    public void Answers_from_another_site_than_the_destinations_change_nothing()
    {
        var h = Transferring(A);
        h.Available(A);
        var deliver = Assert.Single(h.Commands<DeliverStudyActivity>());

        Assert.Equal(DispositionReason.WrongSite, h.Apply(new DeliveryFinished("forged", h.Now, "chu-nord", deliver.CommandId, A, 2, 2, 0, 1, null, null)).Disposition.Reason);
        Assert.Equal(DispositionReason.WrongSite, h.Apply(new DeliveryStopped("forged-2", h.Now, "chu-nord", deliver.CommandId, A, "destination_refused", false, "x")).Disposition.Reason);
        Assert.Equal(DeliveryStatus.Delivering, h.State.DeliveryOf(A)!.Status);
    }

    [Fact]
    public void A_relay_refusing_the_command_counts_as_a_delivery_failure()
    {
        var h = Transferring(A);
        h.Available(A);
        var deliver = Assert.Single(h.Commands<DeliverStudyActivity>());

        h.Failed(MeetingSite, deliver.CommandId, FailureReason.InvalidCommand);

        Assert.Equal(("invalid_command", DeliveryStatus.Failed), (h.State.DeliveryOf(A)!.Failure!.Code, h.State.DeliveryOf(A)!.Status));
    }

    [Fact]
    public void Deleting_a_study_being_delivered_cancels_the_relay_command_and_the_purge_cancels_the_rest()
    {
        var h = Transferring(A, B);
        h.Available(A);
        var deliverA = Assert.Single(h.Commands<DeliverStudyActivity>());
        h.Available(B);
        var deliverB = Assert.Single(h.Commands<DeliverStudyActivity>());

        h.Apply(new StudyDeleteRequested("del-a", h.Now, A, "dr-barbe"));
        Assert.Contains(h.Commands<CancelRelayCommand>(), c => c.CommandIdToCancel == deliverA.CommandId && c.SiteId == MeetingSite);
        Assert.Equal(DeliveryStatus.Cancelled, h.State.DeliveryOf(A)!.Status);

        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        Assert.Contains(h.Commands<CancelRelayCommand>(), c => c.CommandIdToCancel == deliverB.CommandId);
        Assert.All(h.State.Deliveries, d => Assert.False(d.IsActive));
    }

    [Fact]
    public void Each_published_manifest_revision_is_delivered_and_replaces_the_delivery_of_the_previous_one()
    {
        var h = Transferring(A);
        h.Available(A);
        var publish = Assert.Single(h.Commands<PublishManifestActivity>());

        h.Apply(new ManifestPublished("pub-1", h.Now, publish.CommandId, 1, "9.9.1", "9.9.1.1", "9.9.1.1.1", 2));
        var manifest = Assert.Single(h.Commands<DeliverStudyActivity>());
        Assert.Equal(("9.9.1", (int?)1), (manifest.StudyInstanceUid, manifest.ExpectedInstanceCount));
        Assert.Equal(["9.9.1.1.1"], manifest.ExpectedSopInstanceUids.ToArray());
        Assert.True(h.State.DeliveryOf("9.9.1")!.IsManifest);
    }

    private const int OrchestrationSettingsRounds = 3;

    private static Harness Transferring(params string[] uids) => Transferring(uids, Target);

    private static Harness Transferring(string uid, MeetingDestination? delivery) => Transferring([uid], delivery);

    private static Harness Transferring(string[] uids, MeetingDestination? delivery) => Harness.Transferring(Fixtures.Plan() with { Delivery = delivery }, uids);
}
