namespace ServerlessImaging.Dicom;

/// <summary>A PN value: up to three component groups (alphabetic=ideographic=phonetic), each with five ^-separated components
/// (family, given, middle, prefix, suffix).</summary>
public sealed record DicomPersonName(string Alphabetic, string Ideographic = "", string Phonetic = "")
{
    /// <summary>Parses "Family^Given^Middle^Prefix^Suffix=Ideographic=Phonetic".</summary>
    public static DicomPersonName Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var groups = value.Split('=');
        return new DicomPersonName(groups[0], groups.Length > 1 ? groups[1] : "", groups.Length > 2 ? groups[2] : "");
    }

    public static DicomPersonName FromComponents(string family, string given = "", string middle = "", string prefix = "", string suffix = "")
    {
        var parts = new[] { family, given, middle, prefix, suffix };
        var last = Array.FindLastIndex(parts, p => p.Length > 0);
        return new DicomPersonName(string.Join('^', parts.Take(last + 1)));
    }

    public string FamilyName => Component(Alphabetic, 0);
    public string GivenName => Component(Alphabetic, 1);
    public string MiddleName => Component(Alphabetic, 2);
    public string Prefix => Component(Alphabetic, 3);
    public string Suffix => Component(Alphabetic, 4);

    private static string Component(string group, int index)
    {
        var parts = group.Split('^');
        return index < parts.Length ? parts[index] : "";
    }

    /// <summary>The DICOM string form, trailing empty groups removed.</summary>
    public override string ToString() =>
        Phonetic.Length > 0 ? $"{Alphabetic}={Ideographic}={Phonetic}"
        : Ideographic.Length > 0 ? $"{Alphabetic}={Ideographic}"
        : Alphabetic;
}
