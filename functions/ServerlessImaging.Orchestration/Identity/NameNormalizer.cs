using System.Globalization;
using System.Text;

namespace ServerlessImaging.Orchestration.Identity;

/// <summary>
/// Puts a name in the form strong traits are compared in: upper case, diacritics removed (Unicode
/// compatibility decomposition, combining marks dropped), the Latin ligatures and letters that do not
/// decompose spelled out (Œ→OE, Æ→AE, ß→SS, Ø→O, Ł→L, Đ→D), and every run of anything that is not
/// a letter or digit (spaces, hyphens, apostrophes, dots, DICOM separators) turned into one space,
/// trimmed at both ends. So "Lefèvre-d'Août" and "LEFEVRE D AOUT" normalise alike.
/// </summary>
public static class NameNormalizer
{
    /// <summary>The normalised form of <paramref name="value"/>; null or blank gives the empty string.</summary>
    public static string Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.Empty;
        }

        var decomposed = value.Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(decomposed.Length);
        var separatorPending = false;
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            if (!char.IsLetterOrDigit(c))
            {
                separatorPending = true;
                continue;
            }

            if (separatorPending && builder.Length > 0)
            {
                builder.Append(' ');
            }

            separatorPending = false;
            AppendFolded(builder, c);
        }

        return builder.ToString();
    }

    private static void AppendFolded(StringBuilder builder, char c)
    {
        switch (c)
        {
            case 'ß' or 'ẞ':
                builder.Append("SS");
                break;
            case 'Œ' or 'œ':
                builder.Append("OE");
                break;
            case 'Æ' or 'æ':
                builder.Append("AE");
                break;
            case 'Ø' or 'ø':
                builder.Append('O');
                break;
            case 'Ł' or 'ł':
                builder.Append('L');
                break;
            case 'Đ' or 'đ':
                builder.Append('D');
                break;
            default:
                builder.Append(char.ToUpperInvariant(c));
                break;
        }
    }
}
