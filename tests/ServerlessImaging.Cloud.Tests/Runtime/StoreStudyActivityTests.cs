using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Adapters.Staging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;
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
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, sops, _) = await StageAsync(count: 2, corruptSha: false);

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
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, _, manifest) = await StageAsync(count: 1, corruptSha: true);

        var failed = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Contains("SHA-256", failed.SafeMessage, StringComparison.Ordinal);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
        Assert.NotEmpty(await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId));

        var missing = await WithManifestAsync(command with { CommandId = command.CommandId + "-missing" }, [manifest[0] with { BlobName = command.StagingPrefix + "absent.dcm" }]);
        var gone = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(missing, CancellationToken.None));
        Assert.Contains("missing", gone.SafeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Instances_stored_during_the_retrieval_are_not_sent_again_by_the_study_store()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, sops, manifest) = await StageAsync(count: 3, corruptSha: false);
        var early = new StoreStagedInstancesActivity(CommandIds.StoreStaged(CommandIds.StudyTransfer(command.RegistrationId, command.StudyInstanceUid, 1), 1, 7), command.RegistrationId, Site, command.StudyInstanceUid, command.StagingPrefix, await ListAsync(command, [manifest[0], manifest[1]]), command.ExpectedPatient);

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
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (corrupt, _, _) = await StageAsync(count: 1, corruptSha: true);
        var (removed, _, removedManifest) = await StageAsync(count: 1, corruptSha: false);
        await new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainerFor(Site))
            .GetBlobClient(removedManifest[0].BlobName).DeleteAsync(); // as after a deletion or a completed store

        // Neither throws: a wrong hash aborts the STOW-RS part, a missing blob stops before sending.
        await runner.StoreStagedAsync(Staged(corrupt), CancellationToken.None);
        await runner.StoreStagedAsync(Staged(removed), CancellationToken.None);

        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, corrupt.StudyInstanceUid));
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, removed.StudyInstanceUid));
        // The study's own store still reports the mismatch as the study's failure.
        Assert.Contains("SHA-256", Assert.IsType<StoreStudyFailed>(await runner.RunAsync(corrupt, CancellationToken.None)).SafeMessage, StringComparison.Ordinal);

        static StoreStagedInstancesActivity Staged(StoreStudyActivity study) =>
            new(CommandIds.StoreStaged(CommandIds.StudyTransfer(study.RegistrationId, study.StudyInstanceUid, 1), 1, 3), study.RegistrationId, Site, study.StudyInstanceUid, study.StagingPrefix, study.Manifest, study.ExpectedPatient);
    }

    [Fact]
    public async Task A_store_the_DICOM_service_never_answers_throws_so_the_engine_retries_it_and_keeps_the_staged_instances()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there any more: every request is refused, which retrying could cure
        var settings = new RuntimeSettings(stack.Endpoints, [Site]) { Extra = { ["DicomWeb:BaseUrl"] = $"http://127.0.0.1:{port}/dicom-web/" } };
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, _, _) = await StageAsync(count: 1, corruptSha: false);

        // A transient failure is thrown (not turned into a failure event): the engine's retry policy runs it again, and
        // gives it up after its attempts (ActivityRetryLimitTests, and the orchestration's own tests).
        await Assert.ThrowsAnyAsync<Exception>(() => runner.RunAsync(command, CancellationToken.None));
        Assert.NotEmpty(await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId)); // kept for the retry
    }

    [Theory]
    [InlineData("another patient (birth date)", "identity_mismatch")]
    [InlineData("another patient (family name)", "identity_mismatch")]
    [InlineData("another study", "unexpected_instance")]
    [InlineData("not the instance its manifest entry names", "unexpected_instance")]
    [InlineData("not DICOM", "unexpected_instance")]
    public async Task A_staged_instance_that_is_not_what_was_selected_stores_nothing_of_the_study_and_fails_it_with_its_reason(string planted, string code)
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, sops, manifest) = await StageAsync(count: 3, corruptSha: false, alter: (i, ds) => i != 2 ? ds : planted switch
        {
            "another patient (birth date)" => ds.AddOrUpdate(DicomTag.PatientBirthDate, "19610413"),
            "another patient (family name)" => ds.AddOrUpdate(DicomTag.PatientName, "Other^CAMILLE"),
            "another study" => ds.AddOrUpdate(DicomTag.StudyInstanceUID, UniqueNames.DicomUid()),
            _ => ds,
        });
        if (planted == "not the instance its manifest entry names")
        {
            // The entry names one instance, the blob holds another (of the same study and patient, consistent hash and size).
            manifest = [.. manifest.Take(2), manifest[2] with { SopInstanceUid = UniqueNames.DicomUid() }];
            command = await WithManifestAsync(command, manifest);
        }
        else if (planted == "not DICOM")
        {
            var container = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainerFor(Site));
            var junk = System.Text.Encoding.ASCII.GetBytes(new string('x', 4000));
            await container.GetBlobClient(manifest[2].BlobName).UploadAsync(BinaryData.FromBytes(junk), overwrite: true);
            manifest = [.. manifest.Take(2), manifest[2] with { SizeBytes = junk.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(junk)) }];
            command = await WithManifestAsync(command, manifest);
        }

        // The first two were stored during the retrieval (they pass their checks); a batch holding the planted one is refused there too.
        await runner.StoreStagedAsync(new StoreStagedInstancesActivity("early-" + command.CommandId, command.RegistrationId, Site, command.StudyInstanceUid, command.StagingPrefix, await ListAsync(command, [.. manifest.Take(2)]), command.ExpectedPatient), CancellationToken.None);
        await runner.StoreStagedAsync(new StoreStagedInstancesActivity("late-" + command.CommandId, command.RegistrationId, Site, command.StudyInstanceUid, command.StagingPrefix, command.Manifest, command.ExpectedPatient), CancellationToken.None);
        Assert.Equal(sops.Take(2).Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));

        var failed = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Equal(code, failed.Code);
        Assert.DoesNotContain("CAMILLE", failed.SafeMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid)); // nothing of the study is kept
    }

    [Fact]
    public async Task The_registrations_patient_is_recognised_as_candidates_are_and_its_INS_decides_when_both_sides_carry_one()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();

        // Accents, case and hyphens are not differences; a matching INS in Other Patient IDs agrees.
        var ins = new Ins("261047512345678", "1.2.250.1.213.1.4.8");
        var (command, sops, _) = await StageAsync(count: 2, corruptSha: false, alter: (_, ds) => ds
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.PatientName, "STORÉ-TEST^Camille")
            .Add(new DicomSequence(DicomTag.OtherPatientIDsSequence, new DicomDataset().AddOrUpdate(DicomTag.PatientID, ins.Matricule).AddOrUpdate(DicomTag.IssuerOfPatientID, ins.Oid).AddOrUpdate(DicomTag.TypeOfPatientID, "TEXT"))));
        var stored = Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command with { ExpectedPatient = command.ExpectedPatient with { Ins = ins } }, CancellationToken.None));
        Assert.Equal(2, stored.InstancesStored);
        Assert.Equal(sops.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));

        // Same traits, another INS: another patient.
        var (other, _, _) = await StageAsync(count: 1, corruptSha: false, alter: (_, ds) => ds
            .Add(new DicomSequence(DicomTag.OtherPatientIDsSequence, new DicomDataset().AddOrUpdate(DicomTag.PatientID, "161047512345699").AddOrUpdate(DicomTag.IssuerOfPatientID, ins.Oid))));
        var refused = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(other with { ExpectedPatient = other.ExpectedPatient with { Ins = ins } }, CancellationToken.None));
        Assert.Equal(StoreFailureCodes.IdentityMismatch, refused.Code);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, other.StudyInstanceUid));
    }

    [Fact]
    public async Task A_manifest_listing_an_instance_twice_is_refused()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var (command, _, manifest) = await StageAsync(count: 1, corruptSha: false);
        var failed = Assert.IsType<StoreStudyFailed>(await runtime.Get<StoreStudyActivityRunner>().RunAsync(await WithManifestAsync(command, [manifest[0], manifest[0]]), CancellationToken.None));
        Assert.Equal(StoreFailureCodes.UnexpectedInstance, failed.Code);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
    }

    [Fact]
    public async Task A_manifest_list_changed_or_gone_since_it_was_named_fails_the_study_with_its_reason_and_stores_nothing()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        var (command, _, manifest) = await StageAsync(count: 2, corruptSha: false);

        // Rewritten under its name with one instance left out: the SHA-256 the orchestration holds no longer matches.
        var lists = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.InstanceListsContainer);
        await lists.GetBlobClient(command.Manifest.BlobName).UploadAsync(BinaryData.FromObjectAsJson(manifest.Take(1), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)), overwrite: true);
        var changed = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Contains("SHA-256", changed.SafeMessage, StringComparison.Ordinal);

        await lists.GetBlobClient(command.Manifest.BlobName).DeleteAsync();
        var gone = Assert.IsType<StoreStudyFailed>(await runner.RunAsync(command, CancellationToken.None));
        Assert.Contains("not there", gone.SafeMessage, StringComparison.Ordinal);
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
        Assert.Equal(2, (await Scenario.StagedBlobsAsync(stack.Endpoints, command.RegistrationId)).Count);
    }

    [Fact]
    public async Task Each_staged_instance_is_read_once_its_header_checked_from_the_bytes_that_are_sent()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var (command, sops, manifest) = await StageAsync(count: 3, corruptSha: false);
        var counting = new CountingReads(new BlobStagingStore(new BlobServiceClient(stack.Endpoints.Storage.ConnectionString), [Site]));
        var runner = new StoreStudyActivityRunner(
            counting, Lists, runtime.Get<IDicomStore>(), runtime.Get<IDicomInventory>(), new StagedInstanceInspector(counting), runtime.Get<RuntimeOptions>(),
            runtime.Get<FaultInjection>(), TimeProvider.System, NullLogger<StoreStudyActivityRunner>.Instance);

        Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command, CancellationToken.None));

        Assert.Equal(manifest.Select(i => i.BlobName).Order(StringComparer.Ordinal), counting.Reads.Order(StringComparer.Ordinal));
        Assert.Equal(sops.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
    }

    [Fact]
    public async Task An_instance_whose_header_runs_far_past_the_first_read_is_checked_and_stored_whole()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StoreStudyActivityRunner>();
        // A 300 KB private block before the patient's traits: the header parser reads well past 64 KB, all of it replayed.
        var (command, sops, _) = await StageAsync(count: 1, corruptSha: false, alter: (_, ds) => ds.AddOrUpdate(new DicomTag(0x0009, 0x0010), DicomVR.LO, "SI TEST").AddOrUpdate(new DicomTag(0x0009, 0x1001), DicomVR.OB, new byte[300_000]));

        var stored = Assert.IsType<StoreStudyCompleted>(await runner.RunAsync(command, CancellationToken.None));

        Assert.Equal(1, stored.InstancesSent);
        Assert.Equal(sops, await Scenario.StoredInstancesAsync(stack.Endpoints, command.StudyInstanceUid));
    }

    /// <summary>The real staging store, recording which blobs are read.</summary>
    private sealed class CountingReads(IStagingStore inner) : IStagingStore
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _reads = new();

        public IReadOnlyCollection<string> Reads => _reads;

        public string ContainerOf(string siteId) => inner.ContainerOf(siteId);

        public Task<StagingCredential> CreateWriteCredentialAsync(string siteId, string prefix, DateTimeOffset expiresAt, CancellationToken cancellationToken) => inner.CreateWriteCredentialAsync(siteId, prefix, expiresAt, cancellationToken);

        public Task<Stream> OpenReadAsync(string siteId, string blobName, CancellationToken cancellationToken)
        {
            _reads.Enqueue(blobName);
            return inner.OpenReadAsync(siteId, blobName, cancellationToken);
        }

        public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken) => inner.DeletePrefixAsync(prefix, cancellationToken);
    }

    /// <summary>The site whose relay staged the instances.</summary>
    private const string Site = "s1";

    /// <summary>The registration's patient the staged instances are of (unless a test alters one).</summary>
    private static readonly PatientIdentity Patient = new("Store Test", null, "Camille", new DateOnly(1961, 4, 12), PatientSex.Female, null);

    // The app's instance lists, as the runtime keeps them (the commands carry their references).
    private BlobStagedInstanceListStore Lists => new(new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.InstanceListsContainer));

    private Task<StagedInstanceListReference> ListAsync(StoreStudyActivity command, IReadOnlyList<StagedInstance> instances) =>
        Lists.SaveAsync(command.RegistrationId, command.StudyInstanceUid, instances, CancellationToken.None);

    private async Task<StoreStudyActivity> WithManifestAsync(StoreStudyActivity command, IReadOnlyList<StagedInstance> manifest) =>
        command with { Manifest = await ListAsync(command, manifest) };

    private async Task<(StoreStudyActivity Command, List<string> Sops, IReadOnlyList<StagedInstance> Manifest)> StageAsync(int count, bool corruptSha, Func<int, DicomDataset, DicomDataset>? alter = null)
    {
        var registrationId = Scenario.NewRegistrationId();
        var studyUid = UniqueNames.DicomUid();
        var prefix = CommandIds.StagingPrefix(registrationId, studyUid);
        var container = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainerFor(Site));
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
                .AddOrUpdate(DicomTag.PatientName, "Store-Test^CAMILLE")
                .AddOrUpdate(DicomTag.PatientID, "STORE-TEST")
                .AddOrUpdate(DicomTag.PatientBirthDate, "19610412")
                .AddOrUpdate(DicomTag.PatientSex, "F")
                .AddOrUpdate(DicomTag.Modality, "OT");
            dataset = alter?.Invoke(i, dataset) ?? dataset;
            var buffer = new MemoryStream();
            await new DicomFile(dataset).SaveAsync(buffer);
            var bytes = buffer.ToArray();
            var name = prefix + sop + ".dcm";
            await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
            var sha = Convert.ToHexStringLower(SHA256.HashData(corruptSha ? [.. bytes, 0] : bytes));
            manifest.Add(new StagedInstance(studyUid + ".1", sop, name, bytes.Length, sha));
            sops.Add(sop);
        }

        await Lists.EnsureCreatedAsync(CancellationToken.None);
        var listed = await Lists.SaveAsync(registrationId, studyUid, manifest, CancellationToken.None);
        return (new StoreStudyActivity(CommandIds.Store(CommandIds.StudyTransfer(registrationId, studyUid, 1), 1), registrationId, Site, studyUid, prefix, listed, Patient), sops, manifest);
    }
}
