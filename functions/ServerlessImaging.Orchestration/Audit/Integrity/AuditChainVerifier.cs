namespace ServerlessImaging.Orchestration.Audit.Integrity;

/// <summary>What a finding says happened.</summary>
public enum AuditFindingKind
{
    /// <summary>A record's content no longer has the hash it was sealed with (or its stored hash was changed).</summary>
    Edited,

    /// <summary>A sealed record is missing, or the numbering of one of a registration's trails has a gap.</summary>
    Deleted,

    /// <summary>A record that the chain never sealed, or whose registration link does not fit its place.</summary>
    Inserted,

    /// <summary>Two records whose ordering fields (recorded-at, sequence) were exchanged.</summary>
    Reordered,

    /// <summary>A block of the global chain was changed, removed, or disagrees with a signed anchor.</summary>
    ChainBroken,

    /// <summary>Not tampering: a record written in the last moments, not sealed yet.</summary>
    Unsealed,

    /// <summary>Not tampering: a record written before the trail was sealed (no hash).</summary>
    Legacy,
}

/// <summary>One thing the verifier found. Ids, positions and codes only: never record content.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Code">Finer reason (<c>content_hash_mismatch</c>, <c>record_missing</c>, <c>sequence_gap</c>…).</param>
/// <param name="RecordId">The record, when known.</param>
/// <param name="BlockPosition">The block concerned, when one is.</param>
/// <param name="RegistrationId">The registration, for registration-chain findings.</param>
/// <param name="Sequence">The sequence concerned, in the trail <paramref name="Stream"/> names.</param>
/// <param name="OtherRecordId">For <see cref="AuditFindingKind.Reordered"/>: the record it was swapped with.</param>
/// <param name="Stream">The registration's trail the sequence is in (<see cref="AuditRecord.Stream"/>; null: its own).</param>
public sealed record AuditFinding(
    AuditFindingKind Kind,
    string Code,
    string? RecordId = null,
    long? BlockPosition = null,
    string? RegistrationId = null,
    long? Sequence = null,
    string? OtherRecordId = null,
    string? Stream = null)
{
    /// <summary>True for the kinds that mean someone changed the trail.</summary>
    public bool IsTampering => Kind is not (AuditFindingKind.Unsealed or AuditFindingKind.Legacy);
}

/// <summary>The verifier's answer.</summary>
/// <param name="Intact">No finding of tampering.</param>
/// <param name="FirstBlock">First block walked (null when none).</param>
/// <param name="LastBlock">Last block walked.</param>
/// <param name="LastBlockHash">Hash of the last block walked as stored.</param>
/// <param name="RecordsChecked">Records looked at.</param>
/// <param name="RecordsSealed">Records whose seal was checked.</param>
/// <param name="Findings">Every finding, tampering first, then by record id.</param>
public sealed record AuditVerificationReport(
    bool Intact,
    long? FirstBlock,
    long? LastBlock,
    string? LastBlockHash,
    int RecordsChecked,
    int RecordsSealed,
    IReadOnlyList<AuditFinding> Findings);

/// <summary>What to verify: blocks and records as read from the store.</summary>
/// <param name="Blocks">Blocks of the global chain (any order; duplicates are not expected).</param>
/// <param name="Records">The records in scope: each must be sealed, and each registration trail's numbering and links must fit.</param>
/// <param name="Now">The verifier's clock (records newer than <see cref="SealingGrace"/> may be unsealed yet).</param>
/// <param name="SealingGrace">How long a record may wait for its seal before "not in the chain" means inserted.</param>
/// <param name="ContiguousFrom">When set, every block from this position to the last one given must be present.</param>
/// <param name="RegistrationTrailFromStart">True when the records hold whole registration trails (each stream's numbering must start at 1).</param>
/// <param name="Anchor">A trusted chain head (its signature checked by the caller): the block at its position must have its hash.</param>
/// <param name="OtherSealedRecords">Records outside the scope that the blocks name (checked against their seal only).</param>
public sealed record AuditVerificationInput(
    IReadOnlyList<AuditChainBlock> Blocks,
    IReadOnlyList<AuditRecord> Records,
    DateTimeOffset Now,
    TimeSpan SealingGrace,
    long? ContiguousFrom = null,
    bool RegistrationTrailFromStart = false,
    AuditChainHead? Anchor = null,
    IReadOnlyList<AuditRecord>? OtherSealedRecords = null);

/// <summary>
/// Walks the global chain's blocks and the records, and names exactly which records were edited, deleted, inserted or
/// reordered, and which blocks were broken. Pure: the caller reads the store.
/// </summary>
public static class AuditChainVerifier
{
    /// <summary>Verifies <paramref name="input"/>.</summary>
    public static AuditVerificationReport Verify(AuditVerificationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var findings = new List<AuditFinding>();
        var blocks = input.Blocks.OrderBy(b => b.Position).ToList();
        var byPosition = blocks.GroupBy(b => b.Position).ToDictionary(g => g.Key, g => g.First());
        CheckBlocks(input, blocks, byPosition, findings);

        // Which hash each record was sealed with, and where.
        var sealedAs = new Dictionary<string, (AuditChainEntry Entry, long Position)>(StringComparer.Ordinal);
        foreach (var block in blocks)
        {
            foreach (var entry in block.Entries)
            {
                if (!sealedAs.TryAdd(entry.RecordId, (entry, block.Position)))
                {
                    findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "sealed_twice", entry.RecordId, block.Position));
                }
            }
        }

        var inScope = input.Records.GroupBy(r => r.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var records = new Dictionary<string, AuditRecord>(inScope, StringComparer.Ordinal);
        foreach (var other in input.OtherSealedRecords ?? [])
        {
            records.TryAdd(other.Id, other);
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        var deletedHashes = new HashSet<string>(StringComparer.Ordinal);

        // Sealed records: present, and with the content they were sealed with.
        var mismatched = new List<(AuditRecord Record, AuditChainEntry Entry, long Position)>();
        foreach (var (recordId, (entry, position)) in sealedAs)
        {
            if (!records.TryGetValue(recordId, out var record))
            {
                findings.Add(new AuditFinding(AuditFindingKind.Deleted, "record_missing", recordId, position));
                deletedHashes.Add(entry.Hash);
                reported.Add(recordId);
            }
            else if (AuditCanonicalForm.HashOf(record) != entry.Hash || record.Hash != entry.Hash)
            {
                mismatched.Add((record, entry, position));
            }
        }

        ClassifyMismatches(mismatched, findings, reported);

        // Records the chain does not hold.
        foreach (var record in inScope.Values.Where(r => !sealedAs.ContainsKey(r.Id)))
        {
            if (record.Hash is null)
            {
                findings.Add(new AuditFinding(AuditFindingKind.Legacy, "written_before_sealing", record.Id));
            }
            else if (record.RecordedAt >= input.Now - input.SealingGrace && record.RecordedAt <= input.Now + input.SealingGrace)
            {
                findings.Add(new AuditFinding(AuditFindingKind.Unsealed, "awaiting_seal", record.Id));
            }
            else
            {
                findings.Add(new AuditFinding(AuditFindingKind.Inserted, "not_in_chain", record.Id, RegistrationId: record.RegistrationId, Sequence: record.Sequence, Stream: record.Stream));
            }

            reported.Add(record.Id);
        }

        CheckRegistrationChains(input, inScope.Values, sealedAs, deletedHashes, reported, findings);

        var ordered = findings
            .OrderBy(f => f.IsTampering ? 0 : 1)
            .ThenBy(f => f.Kind)
            .ThenBy(f => f.RecordId ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(f => f.BlockPosition ?? 0)
            .ThenBy(f => f.RegistrationId ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(f => f.Stream ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(f => f.Sequence ?? 0)
            .ToList();
        return new AuditVerificationReport(
            !ordered.Any(f => f.IsTampering),
            blocks.Count > 0 ? blocks[0].Position : null,
            blocks.Count > 0 ? blocks[^1].Position : null,
            blocks.Count > 0 ? blocks[^1].Hash : null,
            inScope.Count,
            inScope.Keys.Count(sealedAs.ContainsKey),
            ordered);
    }

    private static void CheckBlocks(AuditVerificationInput input, List<AuditChainBlock> blocks, Dictionary<long, AuditChainBlock> byPosition, List<AuditFinding> findings)
    {
        foreach (var block in blocks)
        {
            if (AuditCanonicalForm.HashOf(block) != block.Hash)
            {
                findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "block_hash_mismatch", BlockPosition: block.Position));
            }

            if (block.Position == 1 && block.PreviousHash is not null)
            {
                findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "link_mismatch", BlockPosition: block.Position));
            }
            else if (byPosition.TryGetValue(block.Position - 1, out var previous) && previous.Hash != block.PreviousHash)
            {
                findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "link_mismatch", BlockPosition: block.Position));
            }
        }

        if (input.ContiguousFrom is { } first && blocks.Count > 0)
        {
            for (var position = first; position <= blocks[^1].Position; position++)
            {
                if (!byPosition.ContainsKey(position))
                {
                    findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "block_missing", BlockPosition: position));
                }
            }
        }

        if (input.Anchor is { } anchor)
        {
            if (byPosition.TryGetValue(anchor.Position, out var anchored))
            {
                if (anchored.Hash != anchor.Hash || AuditCanonicalForm.HashOf(anchored) != anchor.Hash)
                {
                    findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "anchor_mismatch", BlockPosition: anchor.Position));
                }
            }
            else if (blocks.Count == 0 || anchor.Position > blocks[^1].Position)
            {
                findings.Add(new AuditFinding(AuditFindingKind.ChainBroken, "chain_shorter_than_anchor", BlockPosition: anchor.Position));
            }
        }
    }

    // A swap of two records' ordering fields changes both hashes; putting the fields back explains both exactly.
    private static void ClassifyMismatches(List<(AuditRecord Record, AuditChainEntry Entry, long Position)> mismatched, List<AuditFinding> findings, HashSet<string> reported)
    {
        var explained = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < mismatched.Count; i++)
        {
            for (var j = i + 1; j < mismatched.Count; j++)
            {
                var (a, entryA, positionA) = mismatched[i];
                var (b, entryB, positionB) = mismatched[j];
                if (explained.Contains(a.Id) || explained.Contains(b.Id))
                {
                    continue;
                }

                var aRestored = a with { RecordedAt = b.RecordedAt, Sequence = b.Sequence, PartitionKey = b.PartitionKey };
                var bRestored = b with { RecordedAt = a.RecordedAt, Sequence = a.Sequence, PartitionKey = a.PartitionKey };
                if (AuditCanonicalForm.HashOf(aRestored) == entryA.Hash && AuditCanonicalForm.HashOf(bRestored) == entryB.Hash)
                {
                    findings.Add(new AuditFinding(AuditFindingKind.Reordered, "ordering_fields_swapped", a.Id, positionA, a.RegistrationId, a.Sequence, b.Id, a.Stream));
                    findings.Add(new AuditFinding(AuditFindingKind.Reordered, "ordering_fields_swapped", b.Id, positionB, b.RegistrationId, b.Sequence, a.Id, b.Stream));
                    explained.Add(a.Id);
                    explained.Add(b.Id);
                }
            }
        }

        foreach (var (record, entry, position) in mismatched.Where(m => !explained.Contains(m.Record.Id)))
        {
            var code = AuditCanonicalForm.HashOf(record) == entry.Hash ? "stored_hash_mismatch" : "content_hash_mismatch";
            findings.Add(new AuditFinding(AuditFindingKind.Edited, code, record.Id, position, record.RegistrationId, record.Sequence, Stream: record.Stream));
        }

        reported.UnionWith(mismatched.Select(m => m.Record.Id));
    }

    private static void CheckRegistrationChains(
        AuditVerificationInput input,
        IEnumerable<AuditRecord> records,
        Dictionary<string, (AuditChainEntry Entry, long Position)> sealedAs,
        HashSet<string> deletedHashes,
        HashSet<string> reported,
        List<AuditFinding> findings)
    {
        // The hash a record had when written: the sealed one when sealed (an edit must not hide behind its own rehash).
        string OriginalHash(AuditRecord record) =>
            sealedAs.TryGetValue(record.Id, out var sealedEntry) ? sealedEntry.Entry.Hash : record.Hash ?? AuditCanonicalForm.HashOf(record);

        // Each of a registration's trails (its orchestration's own, one per sub-orchestration) is numbered and linked on its own.
        var trails = records
            .Where(r => r.RegistrationId is not null && r.Sequence is > 0)
            .GroupBy(r => (RegistrationId: r.RegistrationId!, r.Stream))
            .OrderBy(t => t.Key.RegistrationId, StringComparer.Ordinal)
            .ThenBy(t => t.Key.Stream ?? string.Empty, StringComparer.Ordinal);
        foreach (var trail in trails)
        {
            var (registrationId, stream) = trail.Key;
            var bySequence = trail.GroupBy(r => r.Sequence!.Value).OrderBy(g => g.Key).ToList();
            long? previousSequence = input.RegistrationTrailFromStart ? 0 : null;
            AuditRecord? previous = null;
            foreach (var group in bySequence)
            {
                var sequence = group.Key;
                var candidates = group.ToList();
                if (candidates.Count > 1)
                {
                    // Two records claim one place: the ones not already explained are the forgeries.
                    foreach (var extra in candidates.Where(c => !sealedAs.ContainsKey(c.Id) && !reported.Contains(c.Id)))
                    {
                        findings.Add(new AuditFinding(AuditFindingKind.Inserted, "duplicate_sequence", extra.Id, RegistrationId: registrationId, Sequence: sequence, Stream: stream));
                        reported.Add(extra.Id);
                    }
                }

                var record = candidates.FirstOrDefault(c => sealedAs.ContainsKey(c.Id)) ?? candidates[0];
                if (previousSequence is { } before && sequence > before + 1)
                {
                    // A gap the chain already named (the deleted record's sealed hash is the next one's link) is not reported twice.
                    var namedByChain = record.PreviousHash is { } link && deletedHashes.Contains(link) && sequence == before + 2;
                    if (!namedByChain)
                    {
                        for (var missing = before + 1; missing < sequence; missing++)
                        {
                            findings.Add(new AuditFinding(AuditFindingKind.Deleted, "sequence_gap", RegistrationId: registrationId, Sequence: missing, Stream: stream));
                        }
                    }
                }
                else if (record.Hash is not null && !reported.Contains(record.Id) && (previous is null || !reported.Contains(previous.Id)))
                {
                    // A link broken by the predecessor's own change is that change, already named.
                    var expected = sequence == 1 ? null : previous is not null && previousSequence == sequence - 1 ? OriginalHash(previous) : record.PreviousHash;
                    if (record.PreviousHash != expected)
                    {
                        findings.Add(new AuditFinding(AuditFindingKind.Inserted, "link_mismatch", record.Id, RegistrationId: registrationId, Sequence: sequence, Stream: stream));
                        reported.Add(record.Id);
                    }
                }

                previousSequence = sequence;
                previous = record;
            }
        }
    }
}
