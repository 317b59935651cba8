using Azure.Storage.Blobs;
using ServerlessImaging.Adapters.Staging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Staging;

/// <summary>The app's instance lists on Azurite: content-addressed, checked on read, removed by prefix.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class BlobStagedInstanceListStoreTests(LocalStackFixture stack)
{
    private static IReadOnlyList<StagedInstance> Instances(string study, int count) =>
        [.. Enumerable.Range(1, count).Select(i => new StagedInstance(study + ".1", $"{study}.1.{i}", $"reg/{study}/{i}.dcm", 500_000 + i, new string((char)('a' + (i % 6)), 64)))];

    [Fact]
    public async Task A_list_kept_twice_is_one_blob_read_back_whole_and_removed_with_its_study_or_registration()
    {
        var container = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(UniqueNames.Queue("lists"));
        var lists = new BlobStagedInstanceListStore(container);
        await lists.EnsureCreatedAsync(CancellationToken.None);
        var (registration, study, other) = ("reg-" + UniqueNames.Queue("r"), "1.2.826.0.1.1", "1.2.826.0.1.2");
        var manifest = Instances(study, 1000);

        var first = await lists.SaveAsync(registration, study, manifest, CancellationToken.None);
        var again = await lists.SaveAsync(registration, study, manifest, CancellationToken.None); // a redelivered event
        await lists.SaveAsync(registration, study, manifest.Take(10).ToList(), CancellationToken.None); // a staged batch
        await lists.SaveAsync(registration, other, Instances(other, 3), CancellationToken.None);

        Assert.Equal(first, again);
        Assert.Equal((1000, manifest.Sum(i => i.SizeBytes)), (first.Count, first.TotalBytes));
        Assert.StartsWith(StagedInstanceList.Prefix(registration, study), first.BlobName, StringComparison.Ordinal);
        Assert.Equal(manifest, await lists.ReadAsync(first, CancellationToken.None));
        Assert.Equal(3, await CountAsync(container, registration));

        // A reference naming another count, or a list that is gone, is a typed mismatch, never a wrong list.
        await Assert.ThrowsAsync<StagedInstanceListMismatchException>(() => lists.ReadAsync(first with { Count = 999 }, CancellationToken.None));
        Assert.Equal(2, await lists.DeletePrefixAsync(StagedInstanceList.Prefix(registration, study), CancellationToken.None));
        await Assert.ThrowsAsync<StagedInstanceListMismatchException>(() => lists.ReadAsync(first, CancellationToken.None));
        Assert.Equal(1, await lists.DeletePrefixAsync(StagedInstanceList.Prefix(registration), CancellationToken.None));
        Assert.Equal(0, await CountAsync(container, registration));
        await container.DeleteAsync();
    }

    private static async Task<int> CountAsync(BlobContainerClient container, string registration)
    {
        var count = 0;
        await foreach (var _ in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = registration + "/" }))
        {
            count++;
        }

        return count;
    }
}
