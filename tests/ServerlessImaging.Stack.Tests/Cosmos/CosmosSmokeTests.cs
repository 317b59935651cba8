using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Cosmos;

[Collection(LocalStackFixture.CollectionName)]
public sealed class CosmosSmokeTests(LocalStackFixture stack) : IAsyncLifetime
{
    private CosmosClient client = null!;
    private Database database = null!;
    private Container container = null!;

    public sealed record AuditRecord(string Id, string RegistrationId, string Site, string Action, int Sequence);

    public async Task InitializeAsync()
    {
        var ct = TestDeadline.Start();
        client = LocalCosmos.CreateClient(stack.Endpoints.Cosmos);
        database = (await client.CreateDatabaseIfNotExistsAsync(UniqueNames.CosmosDatabase("smoke"), cancellationToken: ct)).Database;
        container = (await database.CreateContainerIfNotExistsAsync(
            new ContainerProperties(UniqueNames.CosmosContainer("audit"), "/registrationId"), cancellationToken: ct)).Container;
    }

    public async Task DisposeAsync()
    {
        await database.DeleteAsync();
        client.Dispose();
    }

    [Fact]
    public async Task Created_item_is_point_read_back_with_its_etag()
    {
        var ct = TestDeadline.Start();
        var record = new AuditRecord(Guid.NewGuid().ToString("n"), "reg-1", "chu-nord", "110112", 1);

        var created = await container.CreateItemAsync(record, new PartitionKey(record.RegistrationId), cancellationToken: ct);
        var read = await container.ReadItemAsync<AuditRecord>(record.Id, new PartitionKey(record.RegistrationId), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(record, read.Resource);
        Assert.Equal(created.ETag, read.ETag);
    }

    [Fact]
    public async Task Reading_a_missing_item_is_404_not_found()
    {
        var ct = TestDeadline.Start();

        var error = await Assert.ThrowsAsync<CosmosException>(() =>
            container.ReadItemAsync<AuditRecord>("no-such-item", new PartitionKey("reg-x"), cancellationToken: ct));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Replacing_or_deleting_a_missing_item_is_404_not_found()
    {
        var ct = TestDeadline.Start();
        var ghost = new AuditRecord("ghost", "reg-x", "chu-nord", "110100", 1);

        var replace = await Assert.ThrowsAsync<CosmosException>(() =>
            container.ReplaceItemAsync(ghost, ghost.Id, new PartitionKey(ghost.RegistrationId), cancellationToken: ct));
        var delete = await Assert.ThrowsAsync<CosmosException>(() =>
            container.DeleteItemAsync<AuditRecord>(ghost.Id, new PartitionKey(ghost.RegistrationId), cancellationToken: ct));

        Assert.Equal(HttpStatusCode.NotFound, replace.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
    }

    [Fact]
    public async Task Replace_with_current_etag_succeeds_and_with_a_stale_etag_is_412()
    {
        var ct = TestDeadline.Start();
        var record = new AuditRecord("state", "reg-2", "clinique-sud", "110112", 1);
        var created = await container.CreateItemAsync(record, new PartitionKey(record.RegistrationId), cancellationToken: ct);

        var replaced = await container.ReplaceItemAsync(
            record with { Sequence = 2 }, record.Id, new PartitionKey(record.RegistrationId),
            new ItemRequestOptions { IfMatchEtag = created.ETag }, ct);
        var stale = await Assert.ThrowsAsync<CosmosException>(() => container.ReplaceItemAsync(
            record with { Sequence = 3 }, record.Id, new PartitionKey(record.RegistrationId),
            new ItemRequestOptions { IfMatchEtag = created.ETag }, ct));

        Assert.NotEqual(created.ETag, replaced.ETag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        var current = await container.ReadItemAsync<AuditRecord>(record.Id, new PartitionKey(record.RegistrationId), cancellationToken: ct);
        Assert.Equal(2, current.Resource.Sequence);
    }

    [Fact]
    public async Task Query_with_a_partition_key_sees_only_that_partition_filtered_by_property()
    {
        var ct = TestDeadline.Start();
        await SeedAsync(ct);

        var query = new QueryDefinition("SELECT * FROM c WHERE c.site = @site").WithParameter("@site", "chu-nord");
        var found = await DrainAsync(container.GetItemQueryIterator<AuditRecord>(
            query, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey("reg-a") }), ct);

        Assert.Equal(["a1", "a3"], found.Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cross_partition_query_with_order_by_returns_every_match_in_order()
    {
        var ct = TestDeadline.Start();
        await SeedAsync(ct);

        var query = new QueryDefinition("SELECT * FROM c WHERE c.site = @site ORDER BY c.sequence DESC").WithParameter("@site", "chu-nord");
        var found = await DrainAsync(container.GetItemQueryIterator<AuditRecord>(query), ct);

        Assert.Equal(["b1", "a3", "a1"], found.Select(r => r.Id));
    }

    [Fact]
    public async Task Count_query_across_partitions_counts_every_item()
    {
        var ct = TestDeadline.Start();
        await SeedAsync(ct);

        var counts = await DrainAsync(container.GetItemQueryIterator<int>(new QueryDefinition("SELECT VALUE COUNT(1) FROM c")), ct);

        Assert.Equal(4, Assert.Single(counts));
    }

    private async Task SeedAsync(CancellationToken ct)
    {
        AuditRecord[] records =
        [
            new("a1", "reg-a", "chu-nord", "110112", 1),
            new("a2", "reg-a", "ch-est", "110112", 2),
            new("a3", "reg-a", "chu-nord", "110104", 3),
            new("b1", "reg-b", "chu-nord", "110112", 4),
        ];
        foreach (var record in records)
        {
            await container.CreateItemAsync(record, new PartitionKey(record.RegistrationId), cancellationToken: ct);
        }
    }

    private static async Task<List<T>> DrainAsync<T>(FeedIterator<T> iterator, CancellationToken ct)
    {
        using (iterator)
        {
            var all = new List<T>();
            while (iterator.HasMoreResults)
            {
                all.AddRange(await iterator.ReadNextAsync(ct));
            }

            return all;
        }
    }
}
