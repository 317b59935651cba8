using System.Security.Cryptography;

namespace ServerlessImaging.Testing.Isolation;

/// <summary>
/// Names that cannot collide between tests, reruns or parallel runs against the same
/// long-lived stack. Each honours the naming rules of the resource it is for.
/// </summary>
public static class UniqueNames
{
    private const string LowerAlphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string UpperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>Storage queue: 3–63 chars, lower-case letters, digits and single hyphens.</summary>
    public static string Queue(string purpose) => StorageName(purpose);

    /// <summary>
    /// A prefix for a family of queues (a site id follows, e.g. events queues <c>&lt;prefix&gt;&lt;site&gt;</c>): short, so the
    /// queue and its <c>-poison</c> queue stay within 63 characters.
    /// </summary>
    public static string QueuePrefix(string purpose) => $"{Slug(purpose, 10)}-{Random(LowerAlphanumeric, 8)}-";

    /// <summary>Blob container: same rules as queues.</summary>
    public static string BlobContainer(string purpose) => StorageName(purpose);

    /// <summary>Cosmos DB database id.</summary>
    public static string CosmosDatabase(string purpose) => $"{Slug(purpose, 30)}-{Random(LowerAlphanumeric, 10)}";

    /// <summary>Cosmos DB container id.</summary>
    public static string CosmosContainer(string purpose) => $"{Slug(purpose, 30)}-{Random(LowerAlphanumeric, 10)}";

    /// <summary>
    /// Upper-case letters to append to a patient family name (e.g. DUPONT^JEAN becomes
    /// DUPONTQKXZWB^JEAN) so a test's studies match only its own queries on a shared PACS.
    /// Letters only: identity matching normalises case, accents and separators, not digits.
    /// </summary>
    public static string PatientSuffix(int length = 8) => Random(UpperLetters, length);

    /// <summary>A DICOM UID under the UUID-derived root 2.25 (PS3.5 B.2), unique per call.</summary>
    public static string DicomUid()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string StorageName(string purpose) => $"{Slug(purpose, 40)}-{Random(LowerAlphanumeric, 12)}";

    private static string Slug(string purpose, int maxLength)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var chars = purpose.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray();
        var slug = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        if (slug.Length == 0 || !char.IsAsciiLetter(slug[0]))
        {
            slug = "t-" + slug;
        }

        return slug.Length <= maxLength ? slug.TrimEnd('-') : slug[..maxLength].TrimEnd('-');
    }

    private static string Random(string alphabet, int length) => RandomNumberGenerator.GetString(alphabet, length);
}
