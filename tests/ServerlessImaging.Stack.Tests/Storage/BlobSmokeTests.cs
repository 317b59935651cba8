using Azure.Storage.Blobs;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Storage;

[Collection(LocalStackFixture.CollectionName)]
public sealed class BlobSmokeTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Uploaded_blob_is_listed_and_downloads_byte_for_byte()
    {
        var ct = TestDeadline.Start();
        var service = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString);
        var container = service.GetBlobContainerClient(UniqueNames.BlobContainer("staging smoke"));
        await container.CreateAsync(cancellationToken: ct);
        var payload = new byte[70_000];
        Random.Shared.NextBytes(payload);

        await container.UploadBlobAsync("study/series/instance.dcm", new BinaryData(payload), ct);

        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "study/", ct))
        {
            names.Add(item.Name);
        }

        Assert.Equal(["study/series/instance.dcm"], names);
        var downloaded = await container.GetBlobClient("study/series/instance.dcm").DownloadContentAsync(ct);
        Assert.Equal(payload, downloaded.Value.Content.ToArray());
        await container.DeleteAsync(cancellationToken: ct);
    }
}
