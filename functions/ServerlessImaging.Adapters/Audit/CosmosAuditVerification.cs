using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;

namespace ServerlessImaging.Adapters.Audit;

/// <summary>
/// Reads what <see cref="AuditChainVerifier"/> needs from the Cosmos trail: a time range's records and the blocks that
/// can hold them, or one registration's whole trail and its blocks, plus every record those blocks name.
/// </summary>
public sealed class CosmosAuditVerification(CosmosAuditTrail trail, TimeProvider time)
{
    /// <summary>How long a fresh record may wait for its seal before "not in the chain" means inserted.</summary>
    public static readonly TimeSpan SealingGrace = TimeSpan.FromMinutes(2);

    /// <summary>How far before a range's start its records' blocks may have been sealed (clock skew between instances).</summary>
    public static readonly TimeSpan ClockMargin = TimeSpan.FromMinutes(10);

    private const int ParallelReads = 16;

    /// <summary>Verifies the records recorded in [<paramref name="from"/>, <paramref name="to"/>] and every block sealed since.</summary>
    public async Task<AuditVerificationReport> VerifyRangeAsync(DateTimeOffset from, DateTimeOffset to, AuditChainHead? anchor, CancellationToken cancellationToken)
    {
        var records = await trail.QueryAllAsync(new AuditQuery(From: from, To: to), cancellationToken).ConfigureAwait(false);
        var blocks = (await trail.Chain.ReadBlocksSealedSinceAsync(from - ClockMargin, cancellationToken).ConfigureAwait(false)).ToList();
        long? contiguousFrom = blocks.Count > 0 ? blocks[0].Position : null;

        // Walk back to the anchor when it is older, so everything after it is proven; and take one block before the
        // first for its link.
        var first = Math.Min(contiguousFrom ?? long.MaxValue, anchor?.Position ?? long.MaxValue);
        if (first != long.MaxValue)
        {
            var earlier = new List<AuditChainBlock>();
            for (var position = Math.Max(1, first - 1); position < (contiguousFrom ?? first + 1); position++)
            {
                if (await trail.Chain.ReadBlockAsync(position, cancellationToken).ConfigureAwait(false) is { } block)
                {
                    earlier.Add(block);
                }
            }

            blocks.InsertRange(0, earlier);
            contiguousFrom = first;
        }

        var others = await OtherSealedRecordsAsync(records, blocks, cancellationToken).ConfigureAwait(false);
        return AuditChainVerifier.Verify(new AuditVerificationInput(blocks, records, time.GetUtcNow(), SealingGrace, contiguousFrom, RegistrationTrailFromStart: false, anchor, others));
    }

    /// <summary>Verifies one registration's whole trail (numbered from 1) and the blocks that sealed its records.</summary>
    public async Task<AuditVerificationReport> VerifyRegistrationAsync(string registrationId, AuditChainHead? anchor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        var records = await trail.QueryAllAsync(new AuditQuery(RegistrationId: registrationId), cancellationToken).ConfigureAwait(false);
        var positions = new SortedSet<long>();
        foreach (var record in records)
        {
            if (await trail.Chain.SealedPositionAsync(record.Id, cancellationToken).ConfigureAwait(false) is { } position)
            {
                positions.Add(position);
                if (position > 1)
                {
                    positions.Add(position - 1); // for the link
                }
            }
        }

        if (anchor is not null)
        {
            positions.Add(anchor.Position);
        }

        var blocks = new List<AuditChainBlock>();
        foreach (var position in positions)
        {
            if (await trail.Chain.ReadBlockAsync(position, cancellationToken).ConfigureAwait(false) is { } block)
            {
                blocks.Add(block);
            }
        }

        var others = await OtherSealedRecordsAsync(records, blocks, cancellationToken).ConfigureAwait(false);
        return AuditChainVerifier.Verify(new AuditVerificationInput(blocks, records, time.GetUtcNow(), SealingGrace, ContiguousFrom: null, RegistrationTrailFromStart: true, anchor, others));
    }

    /// <summary>The current chain head (null when nothing was sealed yet).</summary>
    public async Task<AuditChainHead?> HeadAsync(CancellationToken cancellationToken) =>
        (await trail.Chain.ReadHeadAsync(cancellationToken).ConfigureAwait(false))?.Head;

    // The records named by the blocks but outside the query (recorded before the range, or another registration's).
    private async Task<List<AuditRecord>> OtherSealedRecordsAsync(IReadOnlyList<AuditRecord> records, IReadOnlyList<AuditChainBlock> blocks, CancellationToken cancellationToken)
    {
        var known = records.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var missing = blocks.SelectMany(b => b.Entries).Where(e => !known.Contains(e.RecordId)).DistinctBy(e => e.RecordId).ToList();
        var found = new AuditRecord?[missing.Count];
        using var reads = new SemaphoreSlim(ParallelReads);
        await Task.WhenAll(missing.Select(async (entry, index) =>
        {
            await reads.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                found[index] = await trail.TryReadRecordAsync(entry.RecordId, entry.PartitionKey, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                reads.Release();
            }
        })).ConfigureAwait(false);
        return [.. found.OfType<AuditRecord>()];
    }
}
