using System.Text;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;

namespace ServerlessImaging.Orchestration.Tests.Audit;

/// <summary>The canonical form and the verifier's rules on blocks and registration links, as pure logic.</summary>
public sealed class AuditChainVerifierTests
{
    private static readonly DateTimeOffset At = new(2030, 3, 14, 8, 0, 0, TimeSpan.Zero);

    private static AuditRecord Record(string id, long? sequence = null, string? previousHash = null, string? registrationId = "reg-1", int second = 0)
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

    private static AuditVerificationReport Verify(List<AuditRecord> records, List<AuditChainBlock> blocks, AuditChainHead? anchor = null) =>
        AuditChainVerifier.Verify(new AuditVerificationInput(blocks, records, At.AddDays(1), TimeSpan.FromMinutes(2), ContiguousFrom: 1, RegistrationTrailFromStart: true, anchor));

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
}
