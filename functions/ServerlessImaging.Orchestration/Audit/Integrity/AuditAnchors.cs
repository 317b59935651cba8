using System.Security.Cryptography;

namespace ServerlessImaging.Orchestration.Audit.Integrity;

/// <summary>Signing and checking chain anchors: ES256 (ECDSA P-256, SHA-256, r‖s) over <see cref="AuditCanonicalForm.Of(AuditChainHead, string)"/>.</summary>
public static class AuditAnchors
{
    /// <summary>The only algorithm issued and accepted.</summary>
    public const string Es256 = "ES256";

    /// <summary>The SHA-256 digest a signer signs for <paramref name="head"/> under <paramref name="keyId"/>.</summary>
    public static byte[] DigestToSign(AuditChainHead head, string keyId) => SHA256.HashData(AuditCanonicalForm.Of(head, keyId));

    /// <summary>True when <paramref name="anchor"/>'s signature is valid for the P-256 public key <paramref name="subjectPublicKeyInfo"/> (DER).</summary>
    public static bool IsSignedBy(AuditChainAnchor anchor, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        if (anchor.Algorithm != Es256)
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(anchor.Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key.KeySize == 256 && key.VerifyHash(DigestToSign(anchor.Head, anchor.KeyId), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>A short, stable key id for a local key: <c>local:</c> + the first 16 hex digits of SHA-256(SubjectPublicKeyInfo).</summary>
    public static string LocalKeyId(ReadOnlySpan<byte> subjectPublicKeyInfo) => "local:" + Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];
}
