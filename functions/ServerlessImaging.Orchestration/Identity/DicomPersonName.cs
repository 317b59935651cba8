namespace ServerlessImaging.Orchestration.Identity;

/// <summary>
/// The alphabetic group of a DICOM PN value (PS3.5 6.2): <c>Family^Given^Middle^Prefix^Suffix</c>.
/// Ideographic and phonetic groups (after <c>=</c>) are ignored; components are trimmed of DICOM padding.
/// </summary>
public sealed record DicomPersonName(string Family, string Given, string Middle, string Prefix, string Suffix)
{
    /// <summary>The empty name.</summary>
    public static readonly DicomPersonName Empty = new(string.Empty, string.Empty, string.Empty, string.Empty, string.Empty);

    /// <summary>Parses a PN value; null or blank gives <see cref="Empty"/>.</summary>
    public static DicomPersonName Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Empty;
        }

        var alphabetic = value.AsSpan();
        var groupEnd = alphabetic.IndexOf('=');
        if (groupEnd >= 0)
        {
            alphabetic = alphabetic[..groupEnd];
        }

        Span<string> parts = [string.Empty, string.Empty, string.Empty, string.Empty, string.Empty];
        var index = 0;
        foreach (var range in alphabetic.Split('^'))
        {
            if (index == parts.Length)
            {
                break; // More than five components is invalid PN; the extra ones carry nothing we compare.
            }

            parts[index++] = alphabetic[range].Trim().ToString();
        }

        return new DicomPersonName(parts[0], parts[1], parts[2], parts[3], parts[4]);
    }

    /// <summary>Redacted: a name is patient data.</summary>
    public override string ToString() => "DicomPersonName { redacted }";
}
