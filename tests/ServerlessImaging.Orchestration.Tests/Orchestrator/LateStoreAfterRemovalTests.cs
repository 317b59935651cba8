using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>A store still running when its study was deleted or purged may write it back: its late result removes it again.</summary>
public class LateStoreAfterRemovalTests
{
    private const string Uid = "1.2.250.1.1";

    [Fact]
    public void A_store_completing_after_the_deletion_sends_a_second_removal_recorded_as_such()
    {
        var h = Storing();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));
        var first = Assert.Single(h.Commands<DeleteStudyActivity>());

        var late = h.Stored(Uid);

        Assert.Equal(DispositionKind.Applied, late.Disposition.Kind);
        var again = Assert.Single(h.Commands<DeleteStudyActivity>());
        Assert.Equal(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1), again.CommandId);
        Assert.NotEqual(first.CommandId, again.CommandId);
        Assert.Equal(first.StagingPrefix, again.StagingPrefix);
        var record = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((AuditAction.StudyDeletionStarted, (string?)null), (record.Action, record.Actor));
        Assert.Equal(StudyStatus.Deleted, h.Study(Uid).Status);

        // Both removals report; each is recorded once it is done.
        h.Apply(new RemovalCompleted("removed-1", h.Now, first.CommandId, 1, 2));
        h.Apply(new RemovalCompleted("removed-2", h.Now, again.CommandId, 1, 0));
        Assert.Equal(AuditAction.StudyDeleted, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
        Assert.Empty(h.State.PendingRemovals);
    }

    [Fact]
    public void A_store_failing_after_the_deletion_also_removes_again_but_only_once_for_both_outcomes()
    {
        var h = Storing();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));

        h.Apply(new StoreStudyFailed("store-failed", h.Now, Harness.Store(Uid), Uid, "2 of 2 instance(s) are not in the DICOM service after STOW-RS."));
        Assert.Single(h.Commands<DeleteStudyActivity>());

        // The other outcome of the same store (a re-run) while that removal is pending: nothing more.
        Assert.Equal(DispositionReason.Stale, h.Stored(Uid).Disposition.Reason);
        Assert.Empty(h.Last.Commands);
    }

    [Fact]
    public void A_store_completing_after_the_purge_removes_the_study_again_though_the_registration_is_purged()
    {
        var h = Storing();
        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        Assert.Equal(StudyStatus.Purged, h.Study(Uid).Status);

        h.Stored(Uid);

        Assert.Equal(CommandIds.DeleteAfterLateStore(Fixtures.RegistrationId, Uid, 1), Assert.Single(h.Commands<DeleteStudyActivity>()).CommandId);
        Assert.Equal(StudyStatus.Purged, h.Study(Uid).Status);
    }

    [Fact]
    public void Results_of_an_older_attempt_a_replay_or_a_study_not_removed_change_nothing()
    {
        var h = Storing();
        h.Apply(new StudyDeleteRequested("del-1", h.Now, Uid, "dr-barbe"));
        var late = new StoreStudyCompleted("late", h.Now, Harness.Store(Uid), Uid, 2);
        h.Apply(late);

        Assert.Equal(DispositionReason.DuplicateEvent, h.Apply(late).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Apply(new StoreStudyCompleted("older", h.Now, Harness.Store(Uid, attempt: 0), Uid, 2)).Disposition.Reason);
        Assert.Empty(h.Last.Commands);

        // Selected again: a new attempt; the old attempt's store result is stale, not a reason to remove.
        h.Select(Uid);
        Assert.Equal(2, h.Study(Uid).Attempt);
        Assert.Equal(DispositionReason.Stale, h.Apply(new StoreStudyCompleted("late-2", h.Now, Harness.Store(Uid), Uid, 2)).Disposition.Reason);
        Assert.Empty(h.Commands<DeleteStudyActivity>());
    }

    private static Harness Storing() => Harness.Storing(null, Uid);
}
