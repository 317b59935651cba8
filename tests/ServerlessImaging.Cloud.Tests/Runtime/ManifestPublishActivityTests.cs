using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>The PublishManifest activity against the Orthanc DICOMweb stand-in: one revision kept, replaced in place, withdrawn, idempotent.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ManifestPublishActivityTests(LocalStackFixture stack)
{
    private const string Site = "manifest-site";
    private static readonly PatientIdentity Patient = new("MANIFESTE", null, "Élodie", new DateOnly(1961, 4, 13), PatientSex.Female, null);

    [Fact]
    public async Task Publishes_one_revision_replaces_it_when_the_set_changes_and_withdraws_it_when_nothing_is_left()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<ManifestPublishActivityRunner>();
        var dicom = runtime.Get<IDicomStore>();
        var registrationId = "reg-" + UniqueNames.PatientSuffix(10).ToLowerInvariant();
        var (studyA, _, sopsA) = await DicomServiceSeed.StoreStudyAsync(dicom, 2, "MANIFESTE^Élodie");
        var (studyB, _, sopsB) = await DicomServiceSeed.StoreStudyAsync(dicom, 1, "MANIFESTE^Élodie");
        var manifestStudy = RegistrationManifest.StudyUidOf(registrationId);

        // Revision 1: both studies; the DICOM service holds exactly that document, listing exactly their instances.
        var first = Assert.IsType<ManifestPublished>(await runner.RunAsync(Command(registrationId, 1, studyA, studyB), CancellationToken.None));
        Assert.Equal((3, manifestStudy), (first.InstancesListed, first.StudyInstanceUid));
        Assert.Equal([first.DocumentUid!], await Scenario.StoredInstancesAsync(stack.Endpoints, manifestStudy));
        var document = await ReadAsync(dicom, first);
        Assert.Equal(sopsA.Concat(sopsB).Order(StringComparer.Ordinal), Listed(document).Order(StringComparer.Ordinal));
        Assert.Equal("MANIFESTE^Élodie", document.GetString(DicomTag.PatientName));

        // A re-run (the engine running the activity again) gives the same document and keeps one instance.
        var rerun = Assert.IsType<ManifestPublished>(await runner.RunAsync(Command(registrationId, 1, studyA, studyB), CancellationToken.None));
        Assert.Equal(first.DocumentUid, rerun.DocumentUid);
        Assert.Equal([first.DocumentUid!], await Scenario.StoredInstancesAsync(stack.Endpoints, manifestStudy));

        // Revision 2 without study B: a new document replaces the first one in the same series.
        var second = Assert.IsType<ManifestPublished>(await runner.RunAsync(Command(registrationId, 2, studyA), CancellationToken.None));
        Assert.NotEqual(first.DocumentUid, second.DocumentUid);
        Assert.Equal((first.SeriesInstanceUid, 2), (second.SeriesInstanceUid, second.InstancesListed));
        Assert.Equal([second.DocumentUid!], await Scenario.StoredInstancesAsync(stack.Endpoints, manifestStudy));
        Assert.Equal(sopsA.Order(StringComparer.Ordinal), Listed(await ReadAsync(dicom, second)).Order(StringComparer.Ordinal));

        // Nothing left to list: withdrawn, the manifest study is gone.
        var withdrawn = Assert.IsType<ManifestPublished>(await runner.RunAsync(Command(registrationId, 3), CancellationToken.None));
        Assert.Null(withdrawn.DocumentUid);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, manifestStudy));
        Assert.Null(await dicom.ReadInstanceAsync(manifestStudy, second.SeriesInstanceUid!, second.DocumentUid!, 1 << 20, CancellationToken.None));

        await dicom.DeleteStudyAsync(studyA, CancellationToken.None);
        await dicom.DeleteStudyAsync(studyB, CancellationToken.None);
    }

    [Fact]
    public async Task Studies_the_DICOM_service_does_not_hold_are_left_out_and_none_at_all_withdraws()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<ManifestPublishActivityRunner>();
        var registrationId = "reg-" + UniqueNames.PatientSuffix(10).ToLowerInvariant();

        var outcome = Assert.IsType<ManifestPublished>(await runner.RunAsync(Command(registrationId, 1, UniqueNames.DicomUid()), CancellationToken.None));

        Assert.Null(outcome.DocumentUid);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, RegistrationManifest.StudyUidOf(registrationId)));
    }

    private static PublishManifestActivity Command(string registrationId, int revision, params string[] studies) =>
        new(CommandIds.PublishManifest(registrationId, revision), registrationId, revision, [.. studies], Patient, "RCP thoracique");

    private static async Task<DicomDataset> ReadAsync(IDicomStore dicom, ManifestPublished published)
    {
        var bytes = await dicom.ReadInstanceAsync(published.StudyInstanceUid!, published.SeriesInstanceUid!, published.DocumentUid!, 1 << 20, CancellationToken.None);
        Assert.NotNull(bytes);
        return (await DicomFile.OpenAsync(new MemoryStream(bytes))).Dataset;
    }

    private static IEnumerable<string> Listed(DicomDataset manifest) =>
        manifest.GetSequence(DicomTag.CurrentRequestedProcedureEvidenceSequence).Items
            .SelectMany(study => study.GetSequence(DicomTag.ReferencedSeriesSequence).Items)
            .SelectMany(series => series.GetSequence(DicomTag.ReferencedSOPSequence).Items.Select(sop => sop.GetString(DicomTag.ReferencedSOPInstanceUID)!));
}
