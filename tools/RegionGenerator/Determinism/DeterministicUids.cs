using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessImaging.RegionGenerator.Determinism;

/// <summary>
/// UIDs under the 2.25 root (PS3.5 B.2): the decimal form of a name-based UUID computed from the seed and a
/// stable label (e.g. "study/P0003/2"). SHA-256 based, laid out as an RFC 9562 version-8 UUID, so the same
/// seed and label always give the same UID and distinct seeds do not collide in practice.
/// </summary>
public sealed class DeterministicUids(ulong seed)
{
    public const string Root = "2.25.";

    public ulong Seed { get; } = seed;

    public string For(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"region-generator/{Seed}/{label}")), hash);
        Span<byte> uuid = hash[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80); // version 8 (custom, name-based)
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC variant
        var value = new BigInteger(uuid, isUnsigned: true, isBigEndian: true);
        return Root + value.ToString(CultureInfo.InvariantCulture);
    }
}
