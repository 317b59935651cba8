using System.Globalization;

namespace ServerlessImaging.Dicom;

/// <summary>A data element tag (group, element). Well-known tags are generated static members, e.g. <c>DicomTag.PatientName</c>.</summary>
public readonly partial struct DicomTag : IEquatable<DicomTag>, IComparable<DicomTag>
{
    public DicomTag(ushort group, ushort element) => Value = ((uint)group << 16) | element;

    public DicomTag(uint value) => Value = value;

    /// <summary>(group &lt;&lt; 16) | element: also the sort key of a dataset.</summary>
    public uint Value { get; }

    public ushort Group => (ushort)(Value >> 16);
    public ushort Element => (ushort)Value;

    /// <summary>Odd group numbers (other than 0001-0007, FFFF) hold private data elements.</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0007 && Group != 0xFFFF;

    /// <summary>(gggg,0010-00FF) in a private group: reserves a block for a private creator.</summary>
    public bool IsPrivateCreator => IsPrivate && Element is >= 0x0010 and <= 0x00FF;

    public bool IsGroupLength => Element == 0x0000;

    internal static DicomTag ItemTag => new(0xFFFE, 0xE000);
    internal static DicomTag ItemDelimitation => new(0xFFFE, 0xE00D);
    internal static DicomTag SequenceDelimitation => new(0xFFFE, 0xE0DD);

    /// <summary>Parses "(0010,0010)", "0010,0010", "00100010" or a dictionary keyword ("PatientName").</summary>
    public static DicomTag Parse(string text) =>
        TryParse(text, out var tag) ? tag : throw new DicomValueException($"'{text}' is not a DICOM tag or known keyword");

    public static bool TryParse(string? text, out DicomTag tag)
    {
        tag = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        if (s.StartsWith('(') && s.EndsWith(')'))
        {
            s = s[1..^1];
        }
        if (s.Length == 9 && s[4] == ',')
        {
            s = string.Concat(s.AsSpan(0, 4), s.AsSpan(5));
        }
        if (s.Length == 8 && uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
        {
            tag = new DicomTag(v);
            return true;
        }
        var entry = DicomDictionary.FindByKeyword(s);
        if (entry is null)
        {
            return false;
        }
        tag = new DicomTag(entry.GroupLow, entry.ElementLow);
        return true;
    }

    /// <summary>The dictionary entry for this tag (including private/generic rules); null if unknown.</summary>
    public DicomDictionaryEntry? DictionaryEntry => DicomDictionary.Find(this);

    /// <summary>Keyword from the dictionary, or null for unknown and private tags.</summary>
    public string? Keyword => DicomDictionary.Find(this)?.Keyword;

    public bool Equals(DicomTag other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is DicomTag t && Equals(t);
    public override int GetHashCode() => (int)Value;
    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    /// <summary>"(0010,0010)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Group:X4},{Element:X4})");

    /// <summary>"00100010": the form used by DICOM JSON and QIDO.</summary>
    public string ToHexString() => Value.ToString("X8", CultureInfo.InvariantCulture);

    public static bool operator ==(DicomTag left, DicomTag right) => left.Equals(right);
    public static bool operator !=(DicomTag left, DicomTag right) => !left.Equals(right);
    public static bool operator <(DicomTag left, DicomTag right) => left.Value < right.Value;
    public static bool operator >(DicomTag left, DicomTag right) => left.Value > right.Value;
    public static bool operator <=(DicomTag left, DicomTag right) => left.Value <= right.Value;
    public static bool operator >=(DicomTag left, DicomTag right) => left.Value >= right.Value;
}
