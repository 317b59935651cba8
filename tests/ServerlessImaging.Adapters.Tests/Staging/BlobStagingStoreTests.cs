using Azure;
using Azure.Storage.Blobs;
using ServerlessImaging.Adapters.Staging;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Staging;

[Collection(LocalStackFixture.CollectionName)]
public sealed class BlobStagingStoreTests(LocalStackFixture stack)
{
    [Fact]
    public async Task The_relay_credential_can_create_and_list_but_not_read_or_delete_and_expires_when_asked()
    {
        var container = await LocalAdapters.CreateContainerAsync(stack.Endpoints, "staging");
        var staging = new BlobStagingStore(container);
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(10);
        var credential = await staging.CreateWriteCredentialAsync("reg-1/1.2.3/", expiresAt, CancellationToken.None);
        Assert.Equal(expiresAt, credential.ExpiresAt);
        Assert.DoesNotContain("SasUrl =", credential.ToString().Replace("SasUrl = redacted", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);

        // The relay's side: only the SAS URL.
        var relayView = new BlobContainerClient(credential.SasUrl);
        await relayView.GetBlobClient("reg-1/1.2.3/a.dcm").UploadAsync(BinaryData.FromBytes([1, 2, 3]));
        var listed = new List<string>();
        await foreach (var blob in relayView.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = "reg-1/" }))
        {
            listed.Add(blob.Name);
        }

        Assert.Equal(["reg-1/1.2.3/a.dcm"], listed);
        var read = await Assert.ThrowsAsync<RequestFailedException>(() => relayView.GetBlobClient("reg-1/1.2.3/a.dcm").DownloadContentAsync());
        Assert.Equal(403, read.Status);
        var delete = await Assert.ThrowsAsync<RequestFailedException>(() => relayView.GetBlobClient("reg-1/1.2.3/a.dcm").DeleteAsync());
        Assert.Equal(403, delete.Status);

        // The app's side reads and deletes.
        await using (var stream = await staging.OpenReadAsync("reg-1/1.2.3/a.dcm", CancellationToken.None))
        {
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            Assert.Equal([1, 2, 3], buffer.ToArray());
        }

        var expired = await staging.CreateWriteCredentialAsync("reg-1/", DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobContainerClient(expired.SasUrl).GetBlobClient("reg-1/late.dcm").UploadAsync(BinaryData.FromBytes([4])));
        Assert.Equal(403, refused.Status);
        await container.DeleteAsync();
    }

    [Fact]
    public async Task Delete_prefix_removes_only_that_prefix_and_a_missing_blob_is_a_typed_error()
    {
        var container = await LocalAdapters.CreateContainerAsync(stack.Endpoints, "staging");
        var staging = new BlobStagingStore(container);
        foreach (var name in new[] { "reg-1/s1/a.dcm", "reg-1/s1/b.dcm", "reg-1/s2/c.dcm", "reg-10/s1/d.dcm" })
        {
            await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes([0]));
        }

        Assert.Equal(2, await staging.DeletePrefixAsync("reg-1/s1/", CancellationToken.None));
        Assert.Equal(1, await staging.DeletePrefixAsync("reg-1/", CancellationToken.None));
        Assert.Equal(0, await staging.DeletePrefixAsync("reg-1/", CancellationToken.None));
        Assert.True(await container.GetBlobClient("reg-10/s1/d.dcm").ExistsAsync());
        await Assert.ThrowsAsync<StagedBlobMissingException>(() => staging.OpenReadAsync("reg-1/s1/a.dcm", CancellationToken.None));
        await container.DeleteAsync();
    }
}
