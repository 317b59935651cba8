using System.Globalization;

namespace ServerlessImaging.RegionGenerator.Options;

/// <summary>An inclusive count range written "N" or "N-M" on the command line and in the manifest.</summary>
public readonly record struct CountRange(int Min, int Max)
{
    public static CountRange Exactly(int n) => new(n, n);

    public static CountRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            || (parts.Length == 2 ? !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var max) : (max = min) < 0))
        {
            throw new FormatException($"'{text}' is not a count or a range such as 3 or 1-4.");
        }
        if (min < 1 || max < min)
        {
            throw new FormatException($"'{text}' must be at least 1 and written low-high.");
        }
        return new CountRange(min, max);
    }

    public override string ToString() =>
        Min == Max ? Min.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{Min}-{Max}");
}
