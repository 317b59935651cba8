using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>The imaging manifest follows the set of available studies: one publication at a time, revisions in order, withdrawn when nothing is left.</summary>
public class ManifestPublicationTests
{
    private const string A = "1.2.250.1.1";
    private const string B = "1.2.250.1.2";

    [Fact]
    public void The_first_available_study_publishes_revision_1_listing_it_and_its_outcome_is_audited()
    {
        var h = Transferring(A);

        h.Available(A);

        var publish = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Equal((CommandIds.PublishManifest(Fixtures.RegistrationId, 1), 1), (publish.CommandId, publish.Revision));
        Assert.Equal([A], publish.StudyInstanceUids.ToArray());
        Assert.Equal(Fixtures.Patient(), publish.Patient);
        Assert.Equal(publish.CommandId, h.State.Manifest!.InFlightCommandId);

        var outcome = Published(h, publish, instances: 2);

        Assert.Equal(DispositionKind.Applied, outcome.Disposition.Kind);
        Assert.Empty(h.Commands<PublishManifestActivity>());
        var record = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal(AuditAction.ManifestPublished, record.Action);
        Assert.Contains("revision=1", record.Detail, StringComparison.Ordinal);
        Assert.Contains("instances=2", record.Detail, StringComparison.Ordinal);
        Assert.Equal([A], record.StudyInstanceUids);
        Assert.Equal(("doc-1", 2, (string?)null), (h.State.Manifest!.DocumentUid, h.State.Manifest.InstancesListed, h.State.Manifest.InFlightCommandId));
        Assert.Equal([A], h.State.Manifest.PublishedStudies.ToArray());
    }

    [Fact]
    public void A_change_while_a_revision_is_being_published_waits_for_its_outcome_then_publishes_the_new_set()
    {
        var h = Transferring(A, B);
        h.Available(A);
        var first = Assert.Single(h.Commands<PublishManifestActivity>());

        h.Available(B);
        Assert.Empty(h.Commands<PublishManifestActivity>());

        Published(h, first, instances: 2);
        var second = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Equal(2, second.Revision);
        Assert.Equal([A, B], second.StudyInstanceUids.ToArray());
    }

    [Fact]
    public void Deleting_an_available_study_publishes_a_revision_without_it_and_deleting_the_last_one_withdraws_the_manifest()
    {
        var h = Transferring(A, B);
        h.Available(A);
        Published(h, Assert.Single(h.Commands<PublishManifestActivity>()), 2);
        h.Available(B);
        Published(h, Assert.Single(h.Commands<PublishManifestActivity>()), 4);

        h.Apply(new StudyDeleteRequested("del-b", h.Now, B, "dr-barbe"));
        var without = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Equal(3, without.Revision);
        Assert.Equal([A], without.StudyInstanceUids.ToArray());
        Published(h, without, 2);

        h.Apply(new StudyDeleteRequested("del-a", h.Now, A, "dr-barbe"));
        var withdraw = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Empty(withdraw.StudyInstanceUids);

        h.Apply(new ManifestPublished("withdrawn", h.Now, withdraw.CommandId, withdraw.Revision, "1.2.3", "1.2.3.1", null, 0));
        Assert.Equal(AuditAction.ManifestWithdrawn, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
        Assert.Null(h.State.Manifest!.DocumentUid);
        Assert.Empty(h.State.Manifest.PublishedStudies);
    }

    [Fact]
    public void The_purge_withdraws_the_manifest_even_when_a_publication_was_in_flight()
    {
        var h = Transferring(A);
        h.Available(A);
        var publish = Assert.Single(h.Commands<PublishManifestActivity>());

        h.Timer(CommandIds.PurgeTimer(Fixtures.RegistrationId));
        Assert.Empty(h.Commands<PublishManifestActivity>());

        // The publication reports after the purge: recorded, then the manifest is withdrawn.
        Published(h, publish, 2);
        var withdraw = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Empty(withdraw.StudyInstanceUids);
        Assert.Equal(AuditAction.ManifestPublished, Assert.Single(h.Commands<WriteAuditActivity>()).Action);
    }

    [Fact]
    public void A_failed_publication_is_audited_and_not_retried_until_the_set_changes_again()
    {
        var h = Transferring(A, B);
        h.Available(A);
        var publish = Assert.Single(h.Commands<PublishManifestActivity>());

        h.Apply(new ManifestPublishFailed("failed", h.Now, publish.CommandId, "dicom_service_400", "refused"));
        var record = Assert.Single(h.Commands<WriteAuditActivity>());
        Assert.Equal((AuditAction.ManifestPublishFailed, AuditOutcome.SeriousFailure), (record.Action, record.Outcome));
        Assert.Empty(h.Commands<PublishManifestActivity>());
        Assert.Null(h.State.Manifest!.InFlightCommandId);

        h.Available(B);
        var next = Assert.Single(h.Commands<PublishManifestActivity>());
        Assert.Equal(2, next.Revision);
        Assert.Equal([A, B], next.StudyInstanceUids.ToArray());
    }

    [Fact]
    public void Outcomes_of_another_publication_or_replays_change_nothing()
    {
        var h = Transferring(A);
        h.Available(A);
        var publish = Assert.Single(h.Commands<PublishManifestActivity>());
        var outcome = new ManifestPublished("published", h.Now, publish.CommandId, 1, "1.2.3", "1.2.3.1", "doc-1", 2);
        h.Apply(outcome);

        Assert.Equal(DispositionReason.DuplicateEvent, h.Apply(outcome).Disposition.Reason);
        Assert.Equal(DispositionReason.Stale, h.Apply(new ManifestPublished("other", h.Now, CommandIds.PublishManifest(Fixtures.RegistrationId, 7), 7, "1.2.3", "1.2.3.1", "doc-7", 9)).Disposition.Reason);
        Assert.Empty(h.Last.Commands);
        Assert.Equal("doc-1", h.State.Manifest!.DocumentUid);
    }

    [Fact]
    public void A_failed_study_or_one_still_in_transfer_publishes_nothing()
    {
        var h = Transferring(A);
        Assert.Empty(h.Commands<PublishManifestActivity>()); // in transfer

        h.TransferFailed(A, new StudyFailure("store_failed", "refused"), mayHaveStored: true);

        Assert.Empty(h.Commands<PublishManifestActivity>());
        Assert.Null(h.State.Manifest);
    }

    private static Transition Published(Harness h, PublishManifestActivity publish, int instances) =>
        h.Apply(new ManifestPublished(publish.CommandId + "/published", h.Now, publish.CommandId, publish.Revision, "1.2.3", "1.2.3.1", "doc-" + publish.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), instances));

    private static Harness Transferring(params string[] uids) => Harness.Transferring(null, uids);
}
