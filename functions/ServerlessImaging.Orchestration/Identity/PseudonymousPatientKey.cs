using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Identity;

/// <summary>
/// A stable pseudonym of a patient for logs, metrics and audit queries: HMAC-SHA256, keyed with a
/// configured secret, of the normalised birth name, first name, birth date and sex. Without the secret
/// the key cannot be reversed or recomputed from a guessed identity. The INS is left out so that the key
/// does not change when the INS becomes known; the usage name is left out because it changes on marriage.
/// </summary>
public static class PseudonymousPatientKey
{
    /// <summary>Shortest secret accepted, in bytes (the HMAC block security level we want).</summary>
    public const int MinimumSecretLength = 32;

    /// <summary>Computes the key: <c>pk1-</c> followed by 32 lower-case hex digits (128 bits).</summary>
    /// <exception cref="ArgumentException">The secret is shorter than <see cref="MinimumSecretLength"/>.</exception>
    public static string Compute(PatientIdentity patient, ReadOnlySpan<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(patient);
        if (secret.Length < MinimumSecretLength)
        {
            throw new ArgumentException($"The pseudonymisation secret must be at least {MinimumSecretLength} bytes.", nameof(secret));
        }

        var canonical = string.Join(
            '\n',
            "v1",
            NameNormalizer.Normalize(patient.BirthName),
            NameNormalizer.Normalize(patient.FirstName),
            patient.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            patient.SexCode);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(canonical), mac);
        return "pk1-" + Convert.ToHexStringLower(mac[..16]);
    }
}
