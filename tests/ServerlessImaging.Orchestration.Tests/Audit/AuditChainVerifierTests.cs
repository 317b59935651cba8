using System.Text;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;

namespace ServerlessImaging.Orchestration.Tests.Audit;

/// <summary>The canonical form and the verifier's rules on blocks and registration links, as pure logic.</summary>
public sealed class AuditChainVerifierTests
{
    private static readonly DateTimeOffset At = new(2030, 3, 14, 8, 0, 0, TimeSpan.Zero);

    private const string Transfer = "reg-1:transfer:1.2.3:t1";

    private static AuditRecord Record(string id, long? sequence = null, string? previousHash = null, string? registrationId = "reg-1", int second = 0, string? stream = null)
    {
        var record = new AuditRecord
        {
            Id = id,
            PartitionKey = "2030-03-14",
            EventId = AuditEventIds.Query,
            EventType = "SiteSearched",
            ActionCode = AuditActionCodes.Execute,
            DateTime = At.AddSeconds(second),
            RecordedAt = At.AddSeconds(second),
            Sequence = sequence,
            Stream = stream,
            Outcome = 0,
            OutcomeDescription = "1 study",
            AuditSource = "test",
            ActiveParticipants = [new AuditParticipant("chu-nord", "site", false, "destination")],
            ParticipantObjects = [AuditParticipantObject.Registration("reg-1")],
            RegistrationId = registrationId,
            PreviousHash = previousHash,
        };
        return record with { Hash = AuditCanonicalForm.HashOf(record) };
    }

    private static (List<AuditRecord> Records, List<AuditChainBlock> Blocks) Trail(int count)
    {
        var records = new List<AuditRecord>();
        var blocks = new List<AuditChainBlock>();
        for (var i = 1; i <= count; i++)
        {
            var record = Record($"au-{i}", i, i == 1 ? null : records[^1].Hash, second: i);
            records.Add(record);
            blocks.Add(AuditChainBlock.Create(i, blocks.Count == 0 ? null : blocks[^1].Hash, At.AddSeconds(i), [new AuditChainEntry(record.Id, record.PartitionKey, record.Hash!)]));
        }

        return (records, blocks);
    }

    /// <summary>
    /// One registration's records written in <paramref name="order"/> (each a stream, null for its own trail), numbered and
    /// linked per stream as the trail writes them, each sealed in its own block.
    /// </summary>
    private static (List<AuditRecord> Records, List<AuditChainBlock> Blocks) Streams(params string?[] order)
    {
        var records = new List<AuditRecord>();
        var blocks = new List<AuditChainBlock>();
        foreach (var stream in order)
        {
            var previous = records.LastOrDefault(r => r.Stream == stream);
            var record = Record($"au-{records.Count + 1}", (previous?.Sequence ?? 0) + 1, previous?.Hash, second: records.Count + 1, stream: stream);
            records.Add(record);
            blocks.Add(AuditChainBlock.Create(blocks.Count + 1, blocks.Count == 0 ? null : blocks[^1].Hash, record.RecordedAt, [new AuditChainEntry(record.Id, record.PartitionKey, record.Hash!)]));
        }

        return (records, blocks);
    }

    private static AuditVerificationReport Verify(List<AuditRecord> records, List<AuditChainBlock> blocks, AuditChainHead? anchor = null, long? contiguousFrom = 1) =>
        AuditChainVerifier.Verify(new AuditVerificationInput(blocks, records, At.AddDays(1), TimeSpan.FromMinutes(2), contiguousFrom, RegistrationTrailFromStart: true, anchor));

    private static AuditRecord Reseal(AuditRecord record)
    {
        var unsealed = record with { Hash = null };
        return unsealed with { Hash = AuditCanonicalForm.HashOf(unsealed) };
    }

    [Fact]
    public void The_canonical_form_is_length_prefixed_utf8_in_a_fixed_order_and_ignores_nothing_but_the_hash()
    {
        var record = Record("au-1", 1) with { OutcomeDescription = "Hôpital=2\nx" };
        var text = Encoding.UTF8.GetString(AuditCanonicalForm.Of(record));
        Assert.StartsWith("sirec1\nid=4:au-1\npartitionKey=10:2030-03-14\n", text, StringComparison.Ordinal);
        Assert.Contains("outcomeDescription=12:Hôpital=2\nx\n", text, StringComparison.Ordinal); // 12 bytes: ô is two
        Assert.Contains("recordedAt=28:2030-03-14T08:00:00.0000000Z\n", text, StringComparison.Ordinal);
        Assert.EndsWith("registrationId=5:reg-1\npreviousHash=-\n", text, StringComparison.Ordinal);
        Assert.Equal(AuditCanonicalForm.HashOf(record), AuditCanonicalForm.HashOf(record with { Hash = "anything" }));
        Assert.Equal(AuditCanonicalForm.HashOf(record), AuditCanonicalForm.HashOf(record with { RecordedAt = record.RecordedAt.ToOffset(TimeSpan.FromHours(2)) }));
        Assert.NotEqual(AuditCanonicalForm.HashOf(record), AuditCanonicalForm.HashOf(record with { OutcomeDescription = null }));
        Assert.NotEqual(AuditCanonicalForm.HashOf(record), AuditCanonicalForm.HashOf(record with { OutcomeDescription = string.Empty }));
    }

    [Fact]
    public void An_intact_trail_has_no_finding()
    {
        var (records, blocks) = Trail(5);
        var report = Verify(records, blocks, blocks[2].Head);
        Assert.True(report.Intact);
        Assert.Empty(report.Findings);
        Assert.Equal((5, 5, 1L, 5L), (report.RecordsChecked, report.RecordsSealed, report.FirstBlock!.Value, report.LastBlock!.Value));
    }

    [Fact]
    public void A_changed_block_a_removed_block_and_a_stale_anchor_break_the_chain_at_their_positions()
    {
        var (records, blocks) = Trail(6);
        var anchor = blocks[4].Head;
        blocks[1] = blocks[1] with { SealedAt = blocks[1].SealedAt.AddSeconds(1) };
        blocks.RemoveAt(3);
        blocks[3] = AuditChainBlock.Create(5, "f00d", blocks[3].SealedAt, blocks[3].Entries);

        var findings = Verify(records, blocks, anchor).Findings.Where(f => f.Kind == AuditFindingKind.ChainBroken).Select(f => (f.Code, f.BlockPosition)).ToList();
        Assert.Contains(("block_hash_mismatch", (long?)2), findings);
        Assert.DoesNotContain(("link_mismatch", (long?)3), findings); // block 3 still links to the hash block 2 claims
        Assert.Contains(("block_missing", (long?)4), findings);
        Assert.Contains(("anchor_mismatch", (long?)5), findings); // block 5 rebuilt: not the block the anchor vouched for
        Assert.Contains(("link_mismatch", (long?)6), findings); // and block 6 still names the old one
        Assert.Equal(4, findings.Count);
    }

    [Fact]
    public void A_chain_cut_below_its_anchor_is_named()
    {
        var (records, blocks) = Trail(4);
        var report = Verify(records.Take(3).ToList(), blocks.Take(3).ToList(), blocks[3].Head);
        Assert.Equal([("chain_shorter_than_anchor", (long?)4)], report.Findings.Select(f => (f.Code, f.BlockPosition)));
    }

    [Fact]
    public void A_record_sealed_twice_and_a_duplicate_sequence_are_named()
    {
        var (records, blocks) = Trail(3);
        blocks.Add(AuditChainBlock.Create(4, blocks[^1].Hash, At.AddMinutes(1), [blocks[0].Entries[0]]));
        var twin = Record("au-twin", 2, records[0].Hash, second: 2) with { OutcomeDescription = "0 study" };
        twin = twin with { Hash = AuditCanonicalForm.HashOf(twin with { Hash = null }) };
        var report = Verify([.. records, twin], blocks);
        Assert.Contains(report.Findings, f => f is { Kind: AuditFindingKind.ChainBroken, Code: "sealed_twice", RecordId: "au-1" });
        Assert.Contains(report.Findings, f => f is { Kind: AuditFindingKind.Inserted, RecordId: "au-twin" });
    }

    [Fact]
    public void A_fresh_unsealed_record_is_pending_and_a_legacy_one_is_neither_tampering_nor_a_broken_link()
    {
        var (records, blocks) = Trail(2);
        var legacy = Record("au-legacy", registrationId: null) with { Hash = null };
        var fresh = Record("au-fresh", registrationId: null) with { RecordedAt = At.AddDays(1).AddSeconds(-30) };
        var report = Verify([.. records, legacy, fresh], blocks);
        Assert.True(report.Intact);
        Assert.Equal([(AuditFindingKind.Unsealed, "au-fresh"), (AuditFindingKind.Legacy, "au-legacy")], report.Findings.Select(f => (f.Kind, f.RecordId)).OrderBy(f => f.Kind));
    }

    [Fact]
    public void The_stream_is_in_the_canonical_form_only_when_set()
    {
        var own = Record("au-1", 1);
        var text = Encoding.UTF8.GetString(AuditCanonicalForm.Of(own));
        Assert.DoesNotContain("stream=", text, StringComparison.Ordinal); // records of a registration's own trail hash as before streams
        Assert.Contains("sequence=1:1\noutcome=1:0\n", text, StringComparison.Ordinal);

        var transferred = own with { Stream = Transfer };
        Assert.Contains("sequence=1:1\nstream=23:reg-1:transfer:1.2.3:t1\noutcome=1:0\n", Encoding.UTF8.GetString(AuditCanonicalForm.Of(transferred)), StringComparison.Ordinal);
        Assert.NotEqual(AuditCanonicalForm.HashOf(own), AuditCanonicalForm.HashOf(transferred));
        Assert.NotEqual(AuditCanonicalForm.HashOf(own with { Stream = string.Empty }), AuditCanonicalForm.HashOf(own));
    }

    [Fact]
    public void Two_streams_of_one_registration_interleaved_are_intact()
    {
        var (records, blocks) = Streams(null, Transfer, Transfer, null, Transfer, null, null);
        Assert.Equal([1L, 1, 2, 2, 3, 3, 4], records.Select(r => r.Sequence!.Value));

        var report = Verify(records, blocks);
        Assert.True(report.Intact, string.Join("; ", report.Findings));
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_gap_in_one_stream_is_named_with_its_stream_and_the_other_stream_is_clean()
    {
        var (records, blocks) = Streams(null, Transfer, Transfer, null, Transfer, null);
        var removed = records.Single(r => r is { Stream: Transfer, Sequence: 2 });

        // As a registration check sees it: the record and the block that sealed it are both gone.
        var withoutRecord = records.Where(r => r != removed).ToList();
        var report = Verify(withoutRecord, blocks.Where(b => b.Entries[0].RecordId != removed.Id).ToList(), contiguousFrom: null);
        var gap = Assert.Single(report.Findings);
        Assert.Equal((AuditFindingKind.Deleted, "sequence_gap", "reg-1", Transfer, 2L), (gap.Kind, gap.Code, gap.RegistrationId, gap.Stream, gap.Sequence!.Value));

        // With its block present the chain names the record itself, and the gap is not named twice.
        var named = Assert.Single(Verify(withoutRecord, blocks).Findings);
        Assert.Equal((AuditFindingKind.Deleted, "record_missing", removed.Id), (named.Kind, named.Code, named.RecordId));
    }

    [Fact]
    public void A_record_linked_to_another_streams_predecessor_is_named()
    {
        // The stream's record 2 linked to the registration's own record 1, as a trail linking by registration alone would.
        var (records, blocks) = Streams(null, Transfer, null, Transfer);
        var index = records.FindIndex(r => r is { Stream: Transfer, Sequence: 2 });
        var crossLinked = Reseal(records[index] with { PreviousHash = records.Single(r => r is { Stream: null, Sequence: 1 }).Hash });
        records[index] = crossLinked;
        blocks[index] = AuditChainBlock.Create(blocks[index].Position, blocks[index].PreviousHash, blocks[index].SealedAt, [new AuditChainEntry(crossLinked.Id, crossLinked.PartitionKey, crossLinked.Hash!)]);
        for (var i = index + 1; i < blocks.Count; i++)
        {
            blocks[i] = AuditChainBlock.Create(blocks[i].Position, blocks[i - 1].Hash, blocks[i].SealedAt, blocks[i].Entries);
        }

        var finding = Assert.Single(Verify(records, blocks).Findings);
        Assert.Equal((AuditFindingKind.Inserted, "link_mismatch", crossLinked.Id, Transfer, 2L), (finding.Kind, finding.Code, finding.RecordId, finding.Stream, finding.Sequence!.Value));
    }

    [Fact]
    public void A_sealed_record_moved_to_another_stream_is_named_as_edited_and_its_place_as_a_gap()
    {
        var (records, blocks) = Streams(null, Transfer, null, Transfer, null);
        var index = records.FindIndex(r => r is { Stream: null, Sequence: 2 });
        var moved = records[index] with { Stream = Transfer };
        records[index] = moved;

        var findings = Verify(records, blocks).Findings;
        Assert.Contains(findings, f => f is { Kind: AuditFindingKind.Edited, Code: "content_hash_mismatch" } && f.RecordId == moved.Id);
        Assert.Contains(findings, f => f is { Kind: AuditFindingKind.Deleted, Code: "sequence_gap", Stream: null, Sequence: 2 });
        Assert.Equal(2, findings.Count);
    }
}
