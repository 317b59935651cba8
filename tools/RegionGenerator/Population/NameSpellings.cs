using System.Globalization;
using System.Text;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.RegionGenerator.Population;

/// <summary>How a site rewrites a name when it registers the same person differently.</summary>
public static class NameSpellings
{
    public static string Apply(NameSpelling spelling, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return spelling switch
        {
            NameSpelling.Canonical => name,
            NameSpelling.AccentsDropped => DropAccents(name),
            NameSpelling.CaseChanged => TitleCase(name),
            NameSpelling.SeparatorChanged => name.Replace('-', ' '),
            _ => throw new ArgumentOutOfRangeException(nameof(spelling), spelling, null),
        };
    }

    public static string DropAccents(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder(s.Length);
        foreach (var c in s.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                sb.Append(c);
            }
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>"BENOÎT-D'ARC" → "Benoît-D'Arc": upper case after each separator, lower case elsewhere.</summary>
    public static string TitleCase(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var chars = s.ToCharArray();
        var startOfWord = true;
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            chars[i] = startOfWord ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
            startOfWord = c is ' ' or '-' or '\'';
        }
        return new string(chars);
    }
}
