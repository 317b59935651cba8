using Azure;
using Azure.Storage.Blobs;
using ServerlessImaging.Adapters.Staging;
using ServerlessImaging.Contracts;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Staging;

/// <summary>Per-site staging on Azurite, which enforces the SAS: what a relay's credential can and cannot do.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class BlobStagingStoreTests(LocalStackFixture stack)
{
    private async Task<(BlobStagingStore Staging, BlobServiceClient Blobs, string SiteA, string SiteB)> TwoSitesAsync()
    {
        var blobs = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString);
        var (siteA, siteB) = (UniqueNames.Queue("site-a"), UniqueNames.Queue("site-b"));
        var staging = new BlobStagingStore(blobs, [siteA, siteB]);
        await staging.EnsureCreatedAsync(CancellationToken.None);
        return (staging, blobs, siteA, siteB);
    }

    [Fact]
    public async Task A_relay_credential_creates_and_writes_in_its_own_sites_staging_only_and_cannot_list_read_or_delete()
    {
        var (staging, blobs, siteA, siteB) = await TwoSitesAsync();
        Assert.Equal(ResourceNames.StagingContainerFor(siteA), staging.ContainerOf(siteA));
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(10);
        var credential = await staging.CreateWriteCredentialAsync(siteA, "reg-1/1.2.3/", expiresAt, CancellationToken.None);
        Assert.Equal(expiresAt, credential.ExpiresAt);
        Assert.DoesNotContain("SasUrl =", credential.ToString().Replace("SasUrl = redacted", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);

        // Site B's relay staged something meanwhile (through the app's own client here).
        await blobs.GetBlobContainerClient(staging.ContainerOf(siteB)).GetBlobClient("reg-2/9.9/b.dcm").UploadAsync(BinaryData.FromBytes([9]));

        // Site A's relay: only the SAS URL. It creates and writes its blobs...
        var relayView = new BlobContainerClient(credential.SasUrl);
        await relayView.GetBlobClient("reg-1/1.2.3/a.dcm").UploadAsync(BinaryData.FromBytes([1, 2, 3]));

        // ...and can neither list, read nor delete them,
        var list = await Assert.ThrowsAsync<RequestFailedException>(async () =>
        {
            await foreach (var blob in relayView.GetBlobsAsync())
            {
                _ = blob;
            }
        });
        Assert.Equal(403, list.Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<RequestFailedException>(() => relayView.GetBlobClient("reg-1/1.2.3/a.dcm").DownloadContentAsync())).Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<RequestFailedException>(() => relayView.GetBlobClient("reg-1/1.2.3/a.dcm").DeleteAsync())).Status);

        // ...nor reach site B's container with it: listing, reading or writing there is refused.
        var query = credential.SasUrl.Query;
        var siteBWithA = new BlobContainerClient(new Uri(blobs.GetBlobContainerClient(staging.ContainerOf(siteB)).Uri + query));
        Assert.Equal(403, (await Assert.ThrowsAsync<RequestFailedException>(() => siteBWithA.GetBlobClient("reg-1/1.2.3/planted.dcm").UploadAsync(BinaryData.FromBytes([6])))).Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<RequestFailedException>(() => siteBWithA.GetBlobClient("reg-2/9.9/b.dcm").DownloadContentAsync())).Status);
        var listB = await Assert.ThrowsAsync<RequestFailedException>(async () =>
        {
            await foreach (var blob in siteBWithA.GetBlobsAsync())
            {
                _ = blob;
            }
        });
        Assert.Equal(403, listB.Status);
        Assert.False(await blobs.GetBlobContainerClient(staging.ContainerOf(siteB)).GetBlobClient("reg-1/1.2.3/planted.dcm").ExistsAsync());

        // The app reads what site A staged, in site A's staging only.
        await using (var stream = await staging.OpenReadAsync(siteA, "reg-1/1.2.3/a.dcm", CancellationToken.None))
        {
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            Assert.Equal([1, 2, 3], buffer.ToArray());
        }

        await Assert.ThrowsAsync<StagedBlobMissingException>(() => staging.OpenReadAsync(siteB, "reg-1/1.2.3/a.dcm", CancellationToken.None));
        Assert.Throws<ArgumentException>(() => staging.ContainerOf("not-a-configured-site"));

        var expired = await staging.CreateWriteCredentialAsync(siteA, "reg-1/", DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobContainerClient(expired.SasUrl).GetBlobClient("reg-1/late.dcm").UploadAsync(BinaryData.FromBytes([4])));
        Assert.Equal(403, refused.Status);
        await DeleteContainersAsync(blobs, staging, siteA, siteB);
    }

    [Fact]
    public async Task Delete_prefix_removes_only_that_prefix_in_every_sites_staging_and_a_missing_blob_is_a_typed_error()
    {
        var (staging, blobs, siteA, siteB) = await TwoSitesAsync();
        var (a, b) = (blobs.GetBlobContainerClient(staging.ContainerOf(siteA)), blobs.GetBlobContainerClient(staging.ContainerOf(siteB)));
        foreach (var name in new[] { "reg-1/s1/a.dcm", "reg-1/s1/b.dcm", "reg-1/s2/c.dcm", "reg-10/s1/d.dcm" })
        {
            await a.GetBlobClient(name).UploadAsync(BinaryData.FromBytes([0]));
        }

        await b.GetBlobClient("reg-1/s1/e.dcm").UploadAsync(BinaryData.FromBytes([0])); // the same study tried at another site

        Assert.Equal(3, await staging.DeletePrefixAsync("reg-1/s1/", CancellationToken.None));
        Assert.Equal(1, await staging.DeletePrefixAsync("reg-1/", CancellationToken.None));
        Assert.Equal(0, await staging.DeletePrefixAsync("reg-1/", CancellationToken.None));
        Assert.True(await a.GetBlobClient("reg-10/s1/d.dcm").ExistsAsync());
        await Assert.ThrowsAsync<StagedBlobMissingException>(() => staging.OpenReadAsync(siteA, "reg-1/s1/a.dcm", CancellationToken.None));
        await DeleteContainersAsync(blobs, staging, siteA, siteB);
    }

    private static async Task DeleteContainersAsync(BlobServiceClient blobs, BlobStagingStore staging, params string[] sites)
    {
        foreach (var site in sites)
        {
            await blobs.GetBlobContainerClient(staging.ContainerOf(site)).DeleteIfExistsAsync();
        }
    }
}
