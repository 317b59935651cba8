using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>Instances the relay reports staged mid-retrieval are stored at once; the study's StoreStudy still settles it.</summary>
public class PipelinedStoreTests
{
    private const string Uid = "1.2.250.1.1";

    [Fact]
    public void Staged_instances_in_a_progress_event_are_stored_while_the_retrieval_goes_on()
    {
        var h = Retrieving();
        var manifest = Fixtures.Manifest(Uid, 4);

        h.Apply(Progress(h, done: 2, staged: [manifest[0], manifest[1]]));

        var store = Assert.Single(h.Commands<StoreStagedInstancesActivity>());
        Assert.Equal(Fixtures.Listed([manifest[0], manifest[1]], Uid), store.Instances);
        Assert.Equal(CommandIds.StagingPrefix(Fixtures.RegistrationId, Uid), store.StagingPrefix);
        Assert.StartsWith(Harness.Store(Uid) + "/staged/", store.CommandId, StringComparison.Ordinal);
        Assert.Equal((StudyStatus.Retrieving, 2), (h.Study(Uid).Status, h.Study(Uid).InstancesDone));
        Assert.Empty(h.Commands<WriteAuditActivity>()); // StudyStored, after the final store, is the record.

        // The next batch gets its own command id; the completion still sends the whole manifest to StoreStudy.
        h.Apply(Progress(h, done: 4, staged: [manifest[2]]));
        var second = Assert.Single(h.Commands<StoreStagedInstancesActivity>());
        Assert.NotEqual(store.CommandId, second.CommandId);
        h.Completed("chu-nord", Uid, count: 4);
        Assert.Equal(4, Assert.Single(h.Commands<StoreStudyActivity>()).Manifest.Count);
    }

    [Fact]
    public void An_older_progress_event_still_stores_its_staged_instances_but_does_not_move_the_counts_back()
    {
        var h = Retrieving();
        var manifest = Fixtures.Manifest(Uid, 4);
        h.Apply(Progress(h, done: 3, staged: [manifest[0], manifest[1], manifest[2]]));

        var late = h.Apply(Progress(h, done: 1, staged: [manifest[3]]));

        Assert.Equal(DispositionKind.Applied, late.Disposition.Kind);
        Assert.Equal(Fixtures.Listed([manifest[3]], Uid), Assert.Single(h.Commands<StoreStagedInstancesActivity>()).Instances);
        Assert.Equal(3, h.Study(Uid).InstancesDone);

        // Without a staged list, an older event changes nothing, as before.
        Assert.Equal(DispositionReason.OutOfOrder, h.Apply(Progress(h, done: 2, staged: null)).Disposition.Reason);
        Assert.Empty(h.Last.Commands);
    }

    [Fact]
    public void Staged_lists_of_a_retrieval_no_longer_in_flight_or_replayed_are_not_stored()
    {
        var h = Retrieving();
        var manifest = Fixtures.Manifest(Uid, 2);
        var first = Progress(h, done: 1, staged: [manifest[0]]);
        h.Apply(first);

        Assert.Equal(DispositionReason.DuplicateEvent, h.Apply(first).Disposition.Reason);
        Assert.Empty(h.Last.Commands);

        // Attempt 1 failed over to the other site: attempt 1's late progress must not store anything.
        h.Failed("chu-nord", Harness.Retrieve(Uid), FailureReason.PacsUnreachable);
        Assert.Equal(2, h.Study(Uid).Attempt);
        var stale = h.Apply(new RetrievalProgressed(h.NextId("progress"), h.Now, "chu-nord", Harness.Retrieve(Uid), Uid, 2, 2, 2000, Fixtures.Listed([manifest[1]], Uid)));
        Assert.Equal(DispositionReason.Stale, stale.Disposition.Reason);
        Assert.Empty(h.Commands<StoreStagedInstancesActivity>());

        // Once the study is storing (completion applied), a straggler progress event stores nothing either.
        h.Completed("clinique-sud", Uid, attempt: 2);
        var straggler = h.Apply(new RetrievalProgressed(h.NextId("progress"), h.Now, "clinique-sud", Harness.Retrieve(Uid, 2), Uid, 2, 2, 2000, Fixtures.Listed([manifest[1]], Uid)));
        Assert.Equal(DispositionReason.Stale, straggler.Disposition.Reason);
        Assert.Empty(h.Commands<StoreStagedInstancesActivity>());
    }

    [Fact]
    public void A_progress_event_without_a_staged_list_emits_no_store()
    {
        var h = Retrieving();

        h.Apply(Progress(h, done: 1, staged: null));

        Assert.Empty(h.Last.Commands);
        Assert.Equal(1, h.Study(Uid).InstancesDone);
    }

    private static Harness Retrieving()
    {
        var h = new Harness();
        h.Found("ch-est");
        h.Found("chu-nord", studies: Fixtures.Study(Uid));
        h.Found("clinique-sud", studies: Fixtures.Study(Uid));
        h.Select(Uid);
        Assert.Equal("chu-nord", Assert.Single(h.Commands<RetrieveStudyActivity>()).SiteId);
        return h;
    }

    private static RetrievalProgressed Progress(Harness h, int done, IReadOnlyList<StagedInstance>? staged) =>
        new(h.NextId("progress"), h.Now, "chu-nord", Harness.Retrieve(Uid), Uid, done, 4, done * 1000L, staged is null ? null : Fixtures.Listed(staged, Uid));
}
