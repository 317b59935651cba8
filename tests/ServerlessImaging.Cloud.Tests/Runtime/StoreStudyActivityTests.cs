using System.Security.Cryptography;
using Azure.Storage.Blobs;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>The StoreStudy activity against Azurite staging and Orthanc DICOMweb: verification, idempotence, bad manifests.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class StoreStudyActivityTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Stores_verifies_and_cleans_staging_then_a_rerun_sends_nothing_and_reports_the_same_event()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, ["s1"]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, sops) = await StageAsync(count: 2, corruptSha: false);

        var first = Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Equal(2, first.InstancesStored);
        Assert.Equal(sops.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
        Assert.Empty(await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId));

        // Staging is gone, yet a re-run (the engine running the activity again) succeeds from what the DICOM service already holds.
        var again = Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Equal(first.EventId, again.EventId);
    }

    [Fact]
    public async Task A_staged_instance_that_does_not_match_its_manifest_fails_the_study_and_stores_nothing()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, ["s1"]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, _) = await StageAsync(count: 1, corruptSha: true);

        var failed = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Contains("SHA-256", failed.SafeMessage, StringComparison.Ordinal);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
        Assert.NotEmpty(await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId));

        var missing = command with { CommandId = command.CommandId + "-missing", Manifest = [command.Manifest[0] with { BlobName = command.StagingPrefix + "absent.dcm" }] };
        var gone = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(missing, CancellationToken.None));
        Assert.Contains("missing", gone.SafeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Instances_stored_during_the_retrieval_are_not_sent_again_by_the_study_store()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, ["s1"]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, sops) = await StageAsync(count: 3, corruptSha: false);
        var early = new StoreStagedInstancesActivity(CommandIds.StoreStaged(command.RegistrationId, command.StudyInstanceUid, 1, 7), command.RegistrationId, command.StudyInstanceUid, command.StagingPrefix, [command.Manifest[0], command.Manifest[1]]);

        await runner.StoreStagedAsync(early, CancellationToken.None);

        Assert.Equal(sops.Take(2).Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
        Assert.Equal(3, (await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId)).Count); // staging is the final store's to clean
        var completed = Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Equal((3, 1), (completed.InstancesStored, completed.InstancesSent));
        Assert.Equal(sops.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
    }

    [Fact]
    public async Task Storing_during_the_retrieval_never_fails_the_study_and_stores_nothing_it_cannot_verify()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, ["s1"]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (corrupt, _) = await StageAsync(count: 1, corruptSha: true);
        var (removed, _) = await StageAsync(count: 1, corruptSha: false);
        await new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainer)
            .GetBlobClient(removed.Manifest[0].BlobName).DeleteAsync(); // as after a deletion or a completed store

        // Neither throws: a wrong hash aborts the STOW-RS part, a missing blob stops before sending.
        await runner.StoreStagedAsync(Staged(corrupt), CancellationToken.None);
        await runner.StoreStagedAsync(Staged(removed), CancellationToken.None);

        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, corrupt.StudyInstanceUid));
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, removed.StudyInstanceUid));
        // The study's own store still reports the mismatch as the study's failure.
        Assert.Contains("SHA-256", Assert.IsType<StoreStudyFailed>(await runner.RunAsync(corrupt, CancellationToken.None)).SafeMessage, StringComparison.Ordinal);

        static StoreStagedInstancesActivity Staged(StoreStudyActivity study) =>
            new(CommandIds.StoreStaged(study.RegistrationId, study.StudyInstanceUid, 1, 3), study.RegistrationId, study.StudyInstanceUid, study.StagingPrefix, study.Manifest);
    }

    [Fact]
    public async Task A_store_the_DICOM_service_never_answers_throws_so_the_engine_retries_it_and_keeps_the_staged_instances()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there any more: every request is refused, which retrying could cure
        var settings = new RuntimeSettings(stack.Endpoints, ["s1"]) { Extra = { ["DicomWeb:BaseUrl"] = $"http://127.0.0.1:{port}/dicom-web/" } };
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, _) = await StageAsync(count: 1, corruptSha: false);

        // A transient failure is thrown (not turned into a failure event): the engine's retry policy runs it again, and
        // gives it up after its attempts (ActivityRetryLimitTests, and the orchestration's own tests).
        await Assert.ThrowsAnyAsync<Exception>(() => runner.RunAsync(command, CancellationToken.None));
        Assert.NotEmpty(await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId)); // kept for the retry
    }

    private async Task<(StoreStudyActivity Command, List<string> Sops)> StageAsync(int count, bool corruptSha)
    {
        var registrationId = Scenario.NewRegistrationId();
        var studyUid = UniqueNames.DicomUid();
        var prefix = CommandIds.StagingPrefix(registrationId, studyUid);
        var container = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainer);
        await container.CreateIfNotExistsAsync();
        var manifest = new List<StagedInstance>();
        var sops = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var sop = UniqueNames.DicomUid();
            var dataset = new DicomDataset()
                .AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
                .AddOrUpdate(DicomTag.SOPInstanceUID, sop)
                .AddOrUpdate(DicomTag.StudyInstanceUID, studyUid)
                .AddOrUpdate(DicomTag.SeriesInstanceUID, studyUid + ".1")
                .AddOrUpdate(DicomTag.PatientName, "STORE^TEST")
                .AddOrUpdate(DicomTag.PatientID, "STORE-TEST")
                .AddOrUpdate(DicomTag.Modality, "OT");
            var buffer = new MemoryStream();
            await new DicomFile(dataset).SaveAsync(buffer);
            var bytes = buffer.ToArray();
            var name = prefix + sop + ".dcm";
            await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
            var sha = Convert.ToHexStringLower(SHA256.HashData(corruptSha ? [.. bytes, 0] : bytes));
            manifest.Add(new StagedInstance(studyUid + ".1", sop, name, bytes.Length, sha));
            sops.Add(sop);
        }

        return (new StoreStudyActivity(CommandIds.Store(registrationId, studyUid, 1), registrationId, studyUid, prefix, manifest), sops);
    }
}
