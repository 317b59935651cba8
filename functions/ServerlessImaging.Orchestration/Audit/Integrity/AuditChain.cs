namespace ServerlessImaging.Orchestration.Audit.Integrity;

/// <summary>One sealed record in a block: which record (and where it is stored) and the hash it had when sealed.</summary>
public sealed record AuditChainEntry(string RecordId, string PartitionKey, string Hash);

/// <summary>
/// One link of the global chain: the records sealed together, in the order sealed. <see cref="Position"/> runs 1, 2, 3…
/// without gap; <see cref="PreviousHash"/> is the hash of block <see cref="Position"/> − 1 (null for the first);
/// <see cref="Hash"/> covers all of it (<see cref="AuditCanonicalForm.Of(AuditChainBlock)"/>).
/// </summary>
public sealed record AuditChainBlock(long Position, string? PreviousHash, DateTimeOffset SealedAt, IReadOnlyList<AuditChainEntry> Entries, string Hash)
{
    /// <summary>Builds a block and computes its hash.</summary>
    public static AuditChainBlock Create(long position, string? previousHash, DateTimeOffset sealedAt, IReadOnlyList<AuditChainEntry> entries)
    {
        var unsealed = new AuditChainBlock(position, previousHash, sealedAt, entries, string.Empty);
        return unsealed with { Hash = AuditCanonicalForm.HashOf(unsealed) };
    }

    /// <summary>This block as a chain head.</summary>
    public AuditChainHead Head => new(Position, Hash, SealedAt);
}

/// <summary>The last block of the chain at some moment: what an anchor vouches for.</summary>
public sealed record AuditChainHead(long Position, string Hash, DateTimeOffset SealedAt);

/// <summary>
/// A signed chain head, exported so that a rewrite of the whole chain (every hash recomputed) is still detected: the
/// block at <see cref="AuditChainHead.Position"/> must keep this hash. <see cref="Signature"/> is base64 over
/// <see cref="AuditCanonicalForm.Of(AuditChainHead, string)"/>; <see cref="Algorithm"/> says how (ES256: ECDSA P-256 with
/// SHA-256, IEEE P1363 r‖s).
/// </summary>
public sealed record AuditChainAnchor(AuditChainHead Head, string KeyId, string Algorithm, string Signature, DateTimeOffset IssuedAt);
