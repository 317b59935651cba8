using System.Globalization;
using System.Numerics;

namespace ServerlessImaging.Dicom;

/// <summary>UID helpers (PS3.5 9): validation and generation under the 2.25 (UUID-derived) root.</summary>
public static class DicomUid
{
    /// <summary>Our implementation class UID (2.25 root, fixed) written in file meta information.</summary>
    public const string ImplementationClassUid = "2.25.143318716521867226325386839346389371329";

    public const string ImplementationVersionName = "SI_DICOM_1";

    /// <summary>A new globally unique UID "2.25.&lt;decimal of a random UUID&gt;" (PS3.5 B.2).</summary>
    public static string Generate() => FromGuid(Guid.NewGuid());

    public static string FromGuid(Guid uuid)
    {
        Span<byte> bytes = stackalloc byte[16];
        uuid.TryWriteBytes(bytes, bigEndian: true, out _);
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Digits and dots, components without leading zeros, at most 64 characters.</summary>
    public static bool IsValid(string? uid)
    {
        if (string.IsNullOrEmpty(uid) || uid.Length > 64)
        {
            return false;
        }
        var start = 0;
        for (var i = 0; i <= uid.Length; i++)
        {
            if (i == uid.Length || uid[i] == '.')
            {
                var len = i - start;
                if (len == 0 || (len > 1 && uid[start] == '0'))
                {
                    return false;
                }
                start = i + 1;
            }
            else if (uid[i] is < '0' or > '9')
            {
                return false;
            }
        }
        return true;
    }
}
