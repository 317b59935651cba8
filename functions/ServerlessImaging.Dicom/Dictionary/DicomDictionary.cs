namespace ServerlessImaging.Dicom;

/// <summary>One line of the data dictionary. Ranges describe repeating groups such as (6000-60FF,0010).</summary>
public sealed class DicomDictionaryEntry
{
    internal DicomDictionaryEntry(int groupLow, int groupHigh, int groupParity, int elementLow, int elementHigh, int elementParity,
        string keyword, string? name, DicomVR[] vrs, string vm, bool retired)
    {
        GroupLow = (ushort)groupLow;
        GroupHigh = (ushort)groupHigh;
        GroupParity = groupParity;
        ElementLow = (ushort)elementLow;
        ElementHigh = (ushort)elementHigh;
        ElementParity = elementParity;
        Keyword = keyword;
        _name = name;
        ValueRepresentations = vrs;
        ValueMultiplicity = vm;
        IsRetired = retired;
    }

    private string? _name;

    public ushort GroupLow { get; }
    public ushort GroupHigh { get; }
    public ushort ElementLow { get; }
    public ushort ElementHigh { get; }
    private int GroupParity { get; }
    private int ElementParity { get; }

    public string Keyword { get; }
    /// <summary>Readable name, derived from the keyword on first use ("SOPInstanceUID" -> "SOP Instance UID").</summary>
    public string Name => _name ??= DicomKeywordWords.Split(Keyword);

    /// <summary>Allowed VRs; several for e.g. US|SS pixel values or OB|OW pixel data. The first is the default.</summary>
    public IReadOnlyList<DicomVR> ValueRepresentations { get; }

    public DicomVR DefaultVR => ValueRepresentations[0];

    /// <summary>Value multiplicity as in the standard: "1", "1-n", "2-2n"...</summary>
    public string ValueMultiplicity { get; }

    public bool IsRetired { get; }

    public bool IsRange => GroupLow != GroupHigh || ElementLow != ElementHigh;

    internal bool Matches(DicomTag tag) =>
        InRange(tag.Group, GroupLow, GroupHigh, GroupParity) && InRange(tag.Element, ElementLow, ElementHigh, ElementParity);

    private static bool InRange(ushort v, ushort lo, ushort hi, int parity) =>
        v >= lo && v <= hi && (parity == 2 || (v & 1) == parity);

    public override string ToString() => $"{Keyword} {DefaultVR}";
}

/// <summary>Tag -> keyword, name, VR(s), VM, retired. Generated from dcmtk's dicom.dic (public part) plus the private/group-length rules.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is the DICOM data dictionary (PS3.6).")]
public static class DicomDictionary
{
    private static readonly Lazy<Tables> Data = new(Build);

    private static readonly DicomDictionaryEntry PrivateCreator = new(0x0009, 0xFFFF, 1, 0x0010, 0x00FF, 2, "PrivateCreator", "Private Creator", [DicomVR.LO], "1", false);
    private static readonly DicomDictionaryEntry GroupLength = new(0x0000, 0xFFFF, 2, 0x0000, 0x0000, 2, "GroupLength", "Group Length", [DicomVR.UL], "1", false);
    private static readonly DicomDictionaryEntry PrivateUnknown = new(0x0009, 0xFFFF, 1, 0x0000, 0xFFFF, 2, "", "Private Tag", [DicomVR.UN], "1", false);

    private sealed record Tables(Dictionary<uint, DicomDictionaryEntry> Exact, DicomDictionaryEntry[] Ranges, Dictionary<string, DicomDictionaryEntry> ByKeyword);

    private static Tables Build()
    {
        var all = DicomDictionaryTableReader.Read(DicomDictionaryTable.Lines);
        var exact = new Dictionary<uint, DicomDictionaryEntry>(all.Count);
        var ranges = new List<DicomDictionaryEntry>();
        var byKeyword = new Dictionary<string, DicomDictionaryEntry>(all.Count, StringComparer.Ordinal);
        foreach (var e in all)
        {
            if (e.IsRange)
            {
                ranges.Add(e);
            }
            else
            {
                exact[((uint)e.GroupLow << 16) | e.ElementLow] = e;
            }
            byKeyword.TryAdd(e.Keyword, e);
        }
        return new Tables(exact, [.. ranges], byKeyword);
    }

    /// <summary>All generated public entries (excluding the private/group-length rules).</summary>
    public static IEnumerable<DicomDictionaryEntry> Entries => Data.Value.Exact.Values.Concat(Data.Value.Ranges);

    /// <summary>Finds the entry for a tag: exact public entries, repeating groups, then group lengths and private creators.
    /// Other private tags return a generic "Private Tag" entry with VR UN; null for unknown public tags.</summary>
    public static DicomDictionaryEntry? Find(DicomTag tag)
    {
        var t = Data.Value;
        if (t.Exact.TryGetValue(tag.Value, out var e))
        {
            return e;
        }
        foreach (var r in t.Ranges)
        {
            if (r.Matches(tag))
            {
                return r;
            }
        }
        if (tag.IsGroupLength)
        {
            return GroupLength;
        }
        if (tag.IsPrivateCreator)
        {
            return PrivateCreator;
        }
        return tag.IsPrivate ? PrivateUnknown : null;
    }

    public static DicomDictionaryEntry? FindByKeyword(string keyword) =>
        Data.Value.ByKeyword.GetValueOrDefault(keyword);

    /// <summary>The VR implicit VR encoding implies for a tag: the dictionary's default, UN if unknown.</summary>
    public static DicomVR ImplicitVR(DicomTag tag) => Find(tag)?.DefaultVR ?? DicomVR.UN;
}
