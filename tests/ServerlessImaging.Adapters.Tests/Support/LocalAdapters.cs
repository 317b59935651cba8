using Azure.Storage.Blobs;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Support;

/// <summary>Adapters wired to the local stand-ins, each test class in its own Cosmos database.</summary>
internal static class LocalAdapters
{
    public static async Task<(CosmosClient Client, Database Database)> CreateDatabaseAsync(StackEndpoints endpoints, string purpose)
    {
        var client = CosmosClientFactory.Create(new CosmosOptions { ConnectionString = endpoints.Cosmos.ConnectionString }, null);
        var name = UniqueNames.CosmosDatabase(purpose);
        await CosmosClientFactory.EnsureCreatedAsync(client, name, CancellationToken.None);
        return (client, client.GetDatabase(name));
    }

    public static async Task<BlobContainerClient> CreateContainerAsync(StackEndpoints endpoints, string purpose)
    {
        var container = new BlobServiceClient(endpoints.Storage.ConnectionString).GetBlobContainerClient(UniqueNames.BlobContainer(purpose));
        await container.CreateIfNotExistsAsync();
        return container;
    }
}
