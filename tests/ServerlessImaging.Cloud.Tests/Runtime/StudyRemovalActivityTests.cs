using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>DeleteStudy and PurgeStudies against Azurite and Orthanc: staging and the app's instance lists go with the study.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class StudyRemovalActivityTests(LocalStackFixture stack)
{
    private const string Site = "s1";

    [Fact]
    public async Task A_deletion_removes_its_studys_staging_and_instance_lists_and_the_purge_the_registrations_rest()
    {
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [Site]), withWorkers: false);
        var runner = runtime.Get<StudyRemovalActivityRunner>();
        var lists = runtime.Get<IStagedInstanceListStore>();
        await runtime.Get<ServerlessImaging.Adapters.Staging.BlobStagedInstanceListStore>().EnsureCreatedAsync(CancellationToken.None);
        var blobs = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString);
        var staging = blobs.GetBlobContainerClient(ResourceNames.StagingContainerFor(Site));
        await staging.CreateIfNotExistsAsync();
        var registrationId = Scenario.NewRegistrationId();
        var (deleted, kept) = (UniqueNames.DicomUid(), UniqueNames.DicomUid());
        foreach (var study in new[] { deleted, kept })
        {
            await staging.GetBlobClient(CommandIds.StagingPrefix(registrationId, study) + "1.dcm").UploadAsync(BinaryData.FromBytes([1]));
            await lists.SaveAsync(registrationId, study, [new StagedInstance(study + ".1", study + ".1.1", "1.dcm", 1, new string('a', 64))], CancellationToken.None);
        }

        var delete = new DeleteStudyActivity(registrationId + "/delete/1", registrationId, deleted, CommandIds.StagingPrefix(registrationId, deleted));
        Assert.IsType<RemovalCompleted>(await runner.DeleteAsync(delete, CancellationToken.None));
        Assert.Equal(0, await CountAsync(staging, CommandIds.StagingPrefix(registrationId, deleted)));
        Assert.Equal(0, await CountAsync(Lists(blobs), StagedInstanceList.Prefix(registrationId, deleted)));
        Assert.Equal(1, await CountAsync(Lists(blobs), StagedInstanceList.Prefix(registrationId, kept)));

        var purge = new PurgeStudiesActivity(registrationId + "/purge", registrationId, [kept], CommandIds.StagingRoot(registrationId));
        Assert.IsType<RemovalCompleted>(await runner.PurgeAsync(purge, CancellationToken.None));
        Assert.Equal(0, await CountAsync(staging, CommandIds.StagingRoot(registrationId)));
        Assert.Equal(0, await CountAsync(Lists(blobs), StagedInstanceList.Prefix(registrationId)));

        // Absent is success: the engine running either again changes nothing.
        Assert.IsType<RemovalCompleted>(await runner.PurgeAsync(purge, CancellationToken.None));
    }

    private static BlobContainerClient Lists(BlobServiceClient blobs) => blobs.GetBlobContainerClient(ResourceNames.InstanceListsContainer);

    private static async Task<int> CountAsync(BlobContainerClient container, string prefix)
    {
        var count = 0;
        await foreach (var _ in container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }))
        {
            count++;
        }

        return count;
    }
}
