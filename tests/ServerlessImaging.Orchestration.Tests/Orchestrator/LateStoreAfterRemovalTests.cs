using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>
/// A transfer still storing when its study was deleted or purged may write it back: its late outcome (available, or
/// one that says a store ran or was running) removes the study again; one that stored nothing changes nothing.
/// </summary>
public class LateStoreAfterRemovalTests
{
    private const string Uid = "1.2.250.1.1";

    [Fact]
    public void A_transfer_that_made_the_study_available_after_the_deletion_sends_a_second_removal_recorded_as_such()
    {
        var h = Transferring();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));
        var first = Assert.Single(h.Commands<DeleteStudyActivity>());

        var late = h.Available(Uid);

        Assert.Equal(DispositionKind.Applied, late.Disposition.Kind);
        var again = Assert.Single(h.Commands<DeleteStudyActivity>());
        Assert.Equal(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1), again.CommandId);
        Assert.NotEqual(first.CommandId, again.CommandId);
        Assert.Equal(first.StagingPrefix, again.StagingPrefix);
        var record = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((AuditAction.StudyDeletionStarted, (string?)null, Uid), (record.Action, record.Actor, record.StudyInstanceUid));
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid).Status);
        Assert.Empty(h.Commands<PublishManifestActivity>()); // never available for the registration

        // Both removals report; each is recorded once it is done.
        h.Apply(new RemovalCompleted("removed-1", h.Now, first.CommandId, 1, 2));
        h.Apply(new RemovalCompleted("removed-2", h.Now, again.CommandId, 1, 0));
        Assert.Equal(AuditAction.StudyDeleted, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
        Assert.Empty(h.State.PendingRemovals);
    }

    [Fact]
    public void A_transfer_cancelled_by_a_first_deletion_that_reports_after_a_reselection_and_a_second_deletion_removes_the_study_again()
    {
        var h = Transferring();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));
        h.Select(Uid);
        Assert.Equal(Harness.Transfer(Uid, 2), Assert.Single(h.Commands<StartStudyTransfer>()).CommandId);
        h.Apply(new StudyDeleteRequested("del-2", h.Now, Uid, "dr-barbe"));

        // Transfer 1 reports last: it may have stored after both removals.
        var late = h.Settled(Harness.Outcome(Uid, StudyTransferResult.Cancelled, n: 1, mayHaveStored: true));
        Assert.Equal(DispositionKind.Applied, late.Disposition.Kind);
        Assert.Equal(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1), Assert.Single(h.Commands<DeleteStudyActivity>()).CommandId);

        // Transfer 2, cancelled before it stored anything, changes nothing; a transfer number the study never had neither.
        Assert.Empty(h.Settled(Harness.Outcome(Uid, StudyTransferResult.Cancelled, n: 2)).Commands.OfType<DeleteStudyActivity>());
        Assert.Empty(h.Settled(Harness.Outcome(Uid, StudyTransferResult.Available, n: 3, stored: 2)).Commands.OfType<DeleteStudyActivity>());
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid).Status);
    }

    [Theory]
    [InlineData(StudyTransferResult.Available, false, true)]
    [InlineData(StudyTransferResult.Cancelled, true, true)]
    [InlineData(StudyTransferResult.Failed, true, true)]
    [InlineData(StudyTransferResult.Cancelled, false, false)]
    [InlineData(StudyTransferResult.Failed, false, false)]
    public void After_a_deletion_only_an_outcome_that_is_available_or_may_have_stored_removes_the_study_again(StudyTransferResult result, bool mayHaveStored, bool removedAgain)
    {
        var h = Transferring();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));

        var late = h.Settled(Harness.Outcome(Uid, result, stored: result == StudyTransferResult.Available ? 2 : 0, mayHaveStored: mayHaveStored));

        Assert.Equal(removedAgain ? DispositionKind.Applied : DispositionKind.Ignored, late.Disposition.Kind);
        Assert.Equal(removedAgain ? new[] { CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1) } : [], h.Commands<DeleteStudyActivity>().Select(d => d.CommandId));
        Assert.Equal(removedAgain ? 2 : 1, h.State.PendingRemovals.Length);
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid).Status);
    }

    [Fact]
    public void The_transfers_outcome_removes_again_only_once()
    {
        var h = Transferring();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));

        h.TransferCancelled(Uid, mayHaveStored: true);
        Assert.Single(h.Commands<DeleteStudyActivity>());

        // The outcome reported again (another event id) while that removal is pending: nothing more.
        Assert.Equal(DispositionReason.Stale, h.TransferCancelled(Uid, mayHaveStored: true).Disposition.Reason);
        Assert.Empty(h.Last.Commands);
        Assert.Equal(DispositionReason.Stale, h.Available(Uid).Disposition.Reason);
        Assert.Empty(h.Last.Commands);
    }

    [Fact]
    public void A_transfer_storing_after_the_purge_removes_the_study_again_though_the_registration_is_purged()
    {
        var h = Transferring();
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        Assert.Equal(StudyStatus.Purged, h.Study(Uid).Status);
        Assert.Equal(Harness.Transfer(Uid), Assert.Single(h.Commands<CancelStudyTransfer>()).TransferId);

        var late = h.TransferCancelled(Uid, mayHaveStored: true);

        Assert.Equal(DispositionKind.Applied, late.Disposition.Kind);
        Assert.Equal(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1), Assert.Single(h.Commands<DeleteStudyActivity>()).CommandId);
        Assert.Equal((StudyStatus.Purged, RegistrationStatus.Purged), (h.Study(Uid).Status, h.State.Status));
        Assert.Empty(h.Commands<PublishManifestActivity>());
    }

    [Fact]
    public void After_the_purge_an_outcome_that_stored_nothing_or_of_a_study_the_purge_did_not_remove_is_ignored()
    {
        var h = Transferring();
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        var nothing = h.TransferCancelled(Uid);
        Assert.Equal((DispositionKind.Ignored, DispositionReason.Stale), (nothing.Disposition.Kind, nothing.Disposition.Reason));
        Assert.Empty(nothing.Commands);

        // A purged registration whose study was not marked removed (a state written before the purge marked them all):
        // nothing is recorded on it any more.
        var unmarked = h.State with { Selected = [h.Study(Uid) with { Status = StudyStatus.Retrieving, CurrentCommandId = Harness.Transfer(Uid) }] };
        var t = RegistrationOrchestrator.Apply(unmarked, new StudyTransferSettled("late", h.Now, Harness.Outcome(Uid, StudyTransferResult.Available, stored: 2)));
        Assert.Equal((DispositionKind.Ignored, DispositionReason.RegistrationPurged), (t.Disposition.Kind, t.Disposition.Reason));
        Assert.Empty(t.Commands);
        Assert.Equal(StudyStatus.Retrieving, t.State.SelectedOf(Uid)!.Status);
    }

    [Fact]
    public void Outcomes_of_an_older_transfer_a_replay_or_a_study_not_removed_change_nothing()
    {
        var h = Transferring();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));
        var late = new StudyTransferSettled("late", h.Now, Harness.Outcome(Uid, StudyTransferResult.Available, stored: 2));
        h.Apply(late);

        Assert.Equal(DispositionReason.DuplicateEvent, h.Apply(late).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Available(Uid, n: 0).Disposition.Reason);
        Assert.Empty(h.Last.Commands);

        // Selected again: a new transfer; the old one's outcome is stale, not a reason to remove (the study is wanted again).
        h.Select(Uid);
        Assert.Equal((2, Harness.Transfer(Uid, 2)), (h.Study(Uid).Attempt, h.Study(Uid).CurrentCommandId));
        Assert.Equal(DispositionReason.Stale, h.TransferCancelled(Uid, mayHaveStored: true).Disposition.Reason);
        Assert.Empty(h.Commands<DeleteStudyActivity>());
        Assert.Equal(StudyStatus.Retrieving, h.Study(Uid).Status);
    }

    private static Harness Transferring() => Harness.Transferring(null, Uid);
}
