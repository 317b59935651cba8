using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Orchestration.Audit.Integrity;

namespace ServerlessImaging.Adapters.Audit;

/// <summary>
/// The global chain of the audit trail, in the <c>audit</c> container beside the records and, like them, create-only:
/// block <c>P</c> is the document <c>chain-block-P</c> in the partition <c>audit-chain</c>, so two writers that both
/// try to append block P collide on its id and exactly one wins (no fork, no replace, no lease needed for
/// correctness). Each record sealed gets a small index document <c>chain-seal-&lt;record id&gt;</c> (partition
/// <c>audit-chain-seals</c>) naming its block, which is how a replayed write finds it is sealed already.
/// Before appending block P+1 a sealer first makes sure block P's index documents exist, so only the head block can
/// lack them after a crash, and the next append heals it.
/// Within one process callers are combined: whoever holds the gate seals everything queued in one block.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The gate's wait handle is never created (no AvailableWaitHandle), so there is nothing to dispose; the chain lives as long as the app.")]
public sealed class CosmosAuditChain
{
    /// <summary>Partition of the blocks.</summary>
    public const string BlockPartition = "audit-chain";

    /// <summary>Partition of the seal index documents.</summary>
    public const string SealPartition = "audit-chain-seals";

    private const string BlockKind = "audit-chain-block";
    private const string SealKind = "audit-chain-seal";
    private const int MaxBlockEntries = 200;
    private const int MaxAppendAttempts = 200;

    private readonly Container container;
    private readonly TimeProvider time;
    private readonly ConcurrentQueue<PendingSeal> queue = new();
    private readonly SemaphoreSlim gate = new(1, 1);
    private AuditChainBlock? head;
    private bool headIndexed;

    /// <summary>Creates the chain over the audit container.</summary>
    public CosmosAuditChain(Container container, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        this.container = container;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Seals <paramref name="entry"/> into the chain (once) and returns its block position. <paramref name="justCreated"/>
    /// says the record was created by this very call, so no earlier attempt can have sealed it.
    /// </summary>
    public async Task<long> SealAsync(AuditChainEntry entry, bool justCreated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var pending = new PendingSeal(entry, justCreated);
        queue.Enqueue(pending);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!pending.Completion.Task.IsCompleted && !queue.IsEmpty)
            {
                var batch = new List<PendingSeal>(MaxBlockEntries);
                while (batch.Count < MaxBlockEntries && queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    // Not the caller's token: the batch carries other callers' records too.
                    await SealBatchAsync(batch).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Every caller of the batch learns of it (none may wait forever); the head is read again next time.
                    head = null;
                    foreach (var failed in batch)
                    {
                        failed.Completion.TrySetException(ex);
                    }
                }
            }
        }
        finally
        {
            gate.Release();
        }

        return await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>The last block (null when nothing was sealed yet).</summary>
    public async Task<AuditChainBlock?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var definition = new QueryDefinition("SELECT TOP 1 * FROM c WHERE c.partitionKey = @pk AND c.kind = @kind ORDER BY c.position DESC")
            .WithParameter("@pk", BlockPartition)
            .WithParameter("@kind", BlockKind);
        AuditChainBlock? last = null;
        using (var iterator = container.GetItemQueryStreamIterator(definition, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(BlockPartition), MaxItemCount = 1 }))
        {
            while (iterator.HasMoreResults && last is null)
            {
                using var response = await iterator.ReadNextAsync(cancellationToken).ConfigureAwait(false);
                CosmosJson.EnsureSuccess(response, "reading the audit chain head");
                using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
                last = json.RootElement.GetProperty("Documents").EnumerateArray().Select(ToBlock).FirstOrDefault();
            }
        }

        // The index may lag a just-created block: step forward until a position is free.
        while (true)
        {
            var next = await ReadBlockAsync((last?.Position ?? 0) + 1, cancellationToken).ConfigureAwait(false);
            if (next is null)
            {
                return last;
            }

            last = next;
        }
    }

    /// <summary>Block <paramref name="position"/>, or null when there is none.</summary>
    public async Task<AuditChainBlock?> ReadBlockAsync(long position, CancellationToken cancellationToken)
    {
        using var response = await container.ReadItemStreamAsync(BlockId(position), new PartitionKey(BlockPartition), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "reading an audit chain block");
        using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
        return ToBlock(json.RootElement);
    }

    /// <summary>Blocks sealed at or after <paramref name="sealedFrom"/>, by position.</summary>
    public async Task<IReadOnlyList<AuditChainBlock>> ReadBlocksSealedSinceAsync(DateTimeOffset sealedFrom, CancellationToken cancellationToken)
    {
        var definition = new QueryDefinition("SELECT * FROM c WHERE c.partitionKey = @pk AND c.kind = @kind AND c.sealedAtMs >= @from ORDER BY c.position ASC")
            .WithParameter("@pk", BlockPartition)
            .WithParameter("@kind", BlockKind)
            .WithParameter("@from", sealedFrom.ToUnixTimeMilliseconds());
        var blocks = new List<AuditChainBlock>();
        using var iterator = container.GetItemQueryStreamIterator(definition, requestOptions: new QueryRequestOptions { PartitionKey = new PartitionKey(BlockPartition) });
        while (iterator.HasMoreResults)
        {
            using var response = await iterator.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            CosmosJson.EnsureSuccess(response, "reading audit chain blocks");
            using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            blocks.AddRange(json.RootElement.GetProperty("Documents").EnumerateArray().Select(ToBlock));
        }

        return blocks;
    }

    /// <summary>The block a record was sealed in, from its index document (null when not sealed, or the index is missing).</summary>
    public async Task<long?> SealedPositionAsync(string recordId, CancellationToken cancellationToken)
    {
        using var response = await container.ReadItemStreamAsync(SealId(recordId), new PartitionKey(SealPartition), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "reading an audit seal");
        using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
        return json.RootElement.GetProperty("position").GetInt64();
    }

    private async Task SealBatchAsync(List<PendingSeal> batch)
    {
        var wanted = batch.GroupBy(p => p.Entry.RecordId, StringComparer.Ordinal).ToList();
        head ??= await ReadHeadAsync(CancellationToken.None).ConfigureAwait(false);
        for (var attempt = 0; attempt < MaxAppendAttempts; attempt++)
        {
            if (head is not null && !headIndexed)
            {
                await IndexAsync(head).ConfigureAwait(false);
                headIndexed = true;
            }

            // A replayed write may find its record sealed by the earlier attempt.
            var toSeal = new List<IGrouping<string, PendingSeal>>(wanted.Count);
            foreach (var group in wanted)
            {
                var position = group.All(p => p.JustCreated) ? null : await SealedPositionAsync(group.Key, CancellationToken.None).ConfigureAwait(false);
                if (position is { } sealedAt)
                {
                    Complete(group, sealedAt);
                }
                else
                {
                    toSeal.Add(group);
                }
            }

            if (toSeal.Count == 0)
            {
                return;
            }

            var block = AuditChainBlock.Create((head?.Position ?? 0) + 1, head?.Hash, time.GetUtcNow(), [.. toSeal.Select(g => g.First().Entry)]);
            using var body = CosmosJson.ToStream(ToDocument(block));
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(BlockPartition)).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                // Another writer took this position: move on to its block and try the next one.
                head = await ReadBlockAsync(block.Position, CancellationToken.None).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"Audit chain block {block.Position} conflicted but cannot be read.");
                headIndexed = false;
                wanted = toSeal;
                continue;
            }

            CosmosJson.EnsureSuccess(response, "appending an audit chain block");
            head = block;
            headIndexed = false;
            await IndexAsync(block).ConfigureAwait(false);
            headIndexed = true;
            foreach (var group in toSeal)
            {
                Complete(group, block.Position);
            }

            return;
        }

        throw new InvalidDataException($"The audit chain stayed contended for {MaxAppendAttempts} attempts.");
    }

    private async Task IndexAsync(AuditChainBlock block)
    {
        await Task.WhenAll(block.Entries.Select(async entry =>
        {
            using var body = CosmosJson.ToStream(new SealDocument(SealId(entry.RecordId), SealPartition, SealKind, entry.RecordId, block.Position));
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(SealPartition)).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Conflict)
            {
                CosmosJson.EnsureSuccess(response, "indexing an audit seal");
            }
        })).ConfigureAwait(false);
    }

    private static void Complete(IEnumerable<PendingSeal> group, long position)
    {
        foreach (var pending in group)
        {
            pending.Completion.TrySetResult(position);
        }
    }

    /// <summary>Id of block <paramref name="position"/> (zero-padded so ids sort like positions).</summary>
    public static string BlockId(long position) => "chain-block-" + position.ToString("D12", CultureInfo.InvariantCulture);

    private static string SealId(string recordId) => "chain-seal-" + CosmosIds.Encode(recordId);

    private static BlockDocument ToDocument(AuditChainBlock block) =>
        new(BlockId(block.Position), BlockPartition, BlockKind, block.Position, block.PreviousHash, block.SealedAt, block.SealedAt.ToUnixTimeMilliseconds(), block.Entries, block.Hash);

    private static AuditChainBlock ToBlock(JsonElement element)
    {
        var document = element.Deserialize<BlockDocument>(CosmosJson.Options) ?? throw new InvalidDataException("An audit chain block is empty.");
        return new AuditChainBlock(document.Position, document.PreviousHash, document.SealedAt, document.Entries ?? [], document.Hash);
    }

    private sealed record BlockDocument(string Id, string PartitionKey, string Kind, long Position, string? PreviousHash, DateTimeOffset SealedAt, long SealedAtMs, IReadOnlyList<AuditChainEntry>? Entries, string Hash);

    private sealed record SealDocument(string Id, string PartitionKey, string Kind, string RecordId, long Position);

    private sealed class PendingSeal(AuditChainEntry entry, bool justCreated)
    {
        public AuditChainEntry Entry { get; } = entry;

        public bool JustCreated { get; } = justCreated;

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
