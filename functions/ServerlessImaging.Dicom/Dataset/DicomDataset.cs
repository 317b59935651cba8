using System.Buffers.Binary;
using System.Collections;
using System.Globalization;

namespace ServerlessImaging.Dicom;

/// <summary>
/// A set of data elements ordered by tag. Values are kept as bytes; typed getters decode them on demand with the
/// VR and the effective Specific Character Set (this dataset's, else the enclosing dataset's).
/// Set (0008,0005) before adding text that needs it: text is encoded when it is added.
/// </summary>
public sealed partial class DicomDataset : IEnumerable<DicomItem>
{
    private readonly List<DicomItem> _items = [];
    private DicomCharacterSet? _characterSet;

    public DicomDataset() { }

    public DicomDataset(IEnumerable<DicomItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            AddOrUpdate(item);
        }
    }

    internal DicomSequence? ParentSequence { get; set; }

    /// <summary>The dataset that contains this one as a sequence item, if any.</summary>
    public DicomDataset? Parent => ParentSequence?.Owner;

    public int Count => _items.Count;

    /// <summary>Character set used to decode and encode text here: (0008,0005) of this dataset, else inherited, else the default repertoire.</summary>
    public DicomCharacterSet CharacterSet
    {
        get
        {
            if (_characterSet is not null)
            {
                return _characterSet;
            }
            if (TryGetElement(DicomTag.SpecificCharacterSet, out var scs))
            {
                _characterSet = DicomCharacterSet.Parse(SplitValues(DicomCharacterSet.Default.DecodeLenient(scs.Value.GetBytes().Span), DicomVR.CS));
                return _characterSet;
            }
            return Parent?.CharacterSet ?? DicomCharacterSet.Default;
        }
    }

    // ---- structure ----------------------------------------------------------------------------------

    /// <summary>Adds an item; throws if the tag is already present.</summary>
    public DicomDataset Add(DicomItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var index = Find(item.Tag);
        if (index >= 0)
        {
            throw new DicomValueException($"Dataset already contains {item.Tag}");
        }
        Insert(~index, item);
        return this;
    }

    /// <summary>Adds or replaces the item with the same tag.</summary>
    public DicomDataset AddOrUpdate(DicomItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var index = Find(item.Tag);
        if (index >= 0)
        {
            Detach(_items[index]);
            _items[index] = item;
            Attach(item);
        }
        else
        {
            Insert(~index, item);
        }
        return this;
    }

    private void Insert(int index, DicomItem item)
    {
        _items.Insert(index, item);
        Attach(item);
    }

    private void Attach(DicomItem item)
    {
        if (item is DicomSequence sq)
        {
            sq.Owner = this;
        }
        if (item.Tag == DicomTag.SpecificCharacterSet)
        {
            _characterSet = null;
        }
    }

    private void Detach(DicomItem item)
    {
        if (item is DicomSequence sq && sq.Owner == this)
        {
            sq.Owner = null;
        }
        if (item.Tag == DicomTag.SpecificCharacterSet)
        {
            _characterSet = null;
        }
    }

    /// <summary>Appends when tags arrive in order (the reader's fast path), else inserts in place.</summary>
    internal void AppendOrInsert(DicomItem item)
    {
        if (_items.Count == 0 || _items[^1].Tag < item.Tag)
        {
            _items.Add(item);
            Attach(item);
        }
        else
        {
            AddOrUpdate(item);
        }
    }

    public bool Remove(DicomTag tag)
    {
        var index = Find(tag);
        if (index < 0)
        {
            return false;
        }
        Detach(_items[index]);
        _items.RemoveAt(index);
        return true;
    }

    public void Clear()
    {
        foreach (var item in _items)
        {
            Detach(item);
        }
        _items.Clear();
    }

    public bool Contains(DicomTag tag) => Find(tag) >= 0;

    public DicomItem? this[DicomTag tag] => TryGetItem(tag, out var item) ? item : null;

    public bool TryGetItem(DicomTag tag, out DicomItem item)
    {
        var index = Find(tag);
        item = index >= 0 ? _items[index] : null!;
        return index >= 0;
    }

    public bool TryGetElement(DicomTag tag, out DicomElement element)
    {
        element = null!;
        if (TryGetItem(tag, out var item) && item is DicomElement e)
        {
            element = e;
            return true;
        }
        return false;
    }

    private int Find(DicomTag tag)
    {
        // Binary search over the sorted list; returns ~insertionPoint when absent.
        int lo = 0, hi = _items.Count - 1;
        var key = tag.Value;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var v = _items[mid].Tag.Value;
            if (v == key)
            {
                return mid;
            }
            if (v < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }

    public IEnumerator<DicomItem> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A deep copy of the structure (value bytes and lazy sources are shared: they are immutable).</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset();
        foreach (var item in _items)
        {
            copy._items.Add(item switch
            {
                DicomSequence sq => new DicomSequence(sq.Tag, sq.Items.Select(i => i.Clone())),
                _ => item,
            });
            copy.Attach(copy._items[^1]);
        }
        return copy;
    }

    // ---- typed reading ------------------------------------------------------------------------------

    private DicomElement Require(DicomTag tag) =>
        TryGetElement(tag, out var e) ? e : throw new DicomValueException($"Dataset has no element {tag}");

    /// <summary>The whole value as text, trailing padding removed (all values, backslashes included).</summary>
    public string GetString(DicomTag tag) => DecodeText(Require(tag));

    public string? GetStringOrDefault(DicomTag tag, string? defaultValue = null) =>
        TryGetElement(tag, out var e) ? DecodeText(e) : defaultValue;

    public bool TryGetString(DicomTag tag, out string value)
    {
        value = "";
        if (!TryGetElement(tag, out var e))
        {
            return false;
        }
        value = DecodeText(e);
        return true;
    }

    /// <summary>All values of a text element (split at backslash for multi-valued VRs, each trimmed of padding).</summary>
    public IReadOnlyList<string> GetStrings(DicomTag tag)
    {
        var e = Require(tag);
        return SplitValues(DecodeText(e), e.VR);
    }

    /// <summary>Text of element value <paramref name="index"/>.</summary>
    public string GetValue(DicomTag tag, int index = 0)
    {
        var values = GetStrings(tag);
        return index < values.Count ? values[index] : throw new DicomValueException($"{tag} has no value {index}");
    }

    internal string DecodeText(DicomElement e)
    {
        if (e.VR.Kind != VRKind.Text)
        {
            if (e.VR == DicomVR.AT)
            {
                return string.Join('\\', GetTags(e));
            }
            return string.Join('\\', GetNumbers(e).Select(v => v.ToString(CultureInfo.InvariantCulture)));
        }
        var bytes = e.Value.GetBytes().Span;
        var charset = e.VR.UsesSpecificCharacterSet ? CharacterSet : DicomCharacterSet.Default;
        var text = e.VR.UsesSpecificCharacterSet ? charset.Decode(bytes, e.VR == DicomVR.PN) : DicomCharacterSet.Default.DecodeLenient(bytes);
        return TrimPadding(text, e.VR);
    }

    internal static string TrimPadding(string text, DicomVR vr)
    {
        // Trailing spaces/NULs are padding; leading spaces are significant only for ST/LT/UT/UR.
        var trimmed = text.TrimEnd(' ', '\0');
        return vr == DicomVR.ST || vr == DicomVR.LT || vr == DicomVR.UT || vr == DicomVR.UR ? trimmed : trimmed;
    }

    internal static List<string> SplitValues(string text, DicomVR vr)
    {
        if (text.Length == 0)
        {
            return [];
        }
        if (!vr.IsBackslashMultiValued)
        {
            return [text];
        }
        var parts = text.Split('\\');
        var list = new List<string>(parts.Length);
        foreach (var p in parts)
        {
            list.Add(vr == DicomVR.ST || vr == DicomVR.LT ? p : p.Trim(' ', '\0'));
        }
        return list;
    }

    public int GetInt32(DicomTag tag, int index = 0) => checked((int)GetInt64(tag, index));

    public long GetInt64(DicomTag tag, int index = 0)
    {
        var e = Require(tag);
        if (e.VR == DicomVR.IS || e.VR == DicomVR.DS)
        {
            var s = GetValue(tag, index);
            if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
            {
                return l;
            }
            throw new DicomValueException($"{tag} value {index} is not an integer");
        }
        var numbers = GetNumbers(e);
        return index < numbers.Count ? (long)numbers[index] : throw new DicomValueException($"{tag} has no value {index}");
    }

    public double GetDouble(DicomTag tag, int index = 0) => GetDoubles(tag) is { } v && index < v.Count ? v[index] : throw new DicomValueException($"{tag} has no value {index}");

    public decimal GetDecimal(DicomTag tag, int index = 0)
    {
        var s = GetValue(tag, index);
        return decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new DicomValueException($"{tag} value {index} is not a decimal");
    }

    /// <summary>All numeric values (IS/DS parsed from text, binary VRs decoded) as doubles.</summary>
    public IReadOnlyList<double> GetDoubles(DicomTag tag)
    {
        var e = Require(tag);
        if (e.VR.Kind == VRKind.Text)
        {
            return GetStrings(tag).Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d : throw new DicomValueException($"{tag} has a value that is not a number")).ToList();
        }
        return GetNumbers(e);
    }

    public ushort GetUInt16(DicomTag tag, int index = 0) => checked((ushort)GetInt64(tag, index));

    internal static List<double> GetNumbers(DicomElement e)
    {
        var span = e.Value.GetBytes().Span;
        var vr = e.VR;
        var size = vr.UnitSize;
        if (vr == DicomVR.OB || vr == DicomVR.UN)
        {
            size = 1;
        }
        var list = new List<double>(span.Length / Math.Max(1, size));
        for (var i = 0; i + size <= span.Length; i += size)
        {
            var s = span.Slice(i, size);
            list.Add(vr.Code switch
            {
                "US" or "OW" or "AT" => BinaryPrimitives.ReadUInt16LittleEndian(s),
                "SS" => BinaryPrimitives.ReadInt16LittleEndian(s),
                "UL" or "OL" => BinaryPrimitives.ReadUInt32LittleEndian(s),
                "SL" => BinaryPrimitives.ReadInt32LittleEndian(s),
                "FL" or "OF" => BinaryPrimitives.ReadSingleLittleEndian(s),
                "FD" or "OD" => BinaryPrimitives.ReadDoubleLittleEndian(s),
                "SV" => BinaryPrimitives.ReadInt64LittleEndian(s),
                "UV" or "OV" => BinaryPrimitives.ReadUInt64LittleEndian(s),
                _ => s[0],
            });
        }
        return list;
    }

    /// <summary>Exact 64-bit values of SV/UV/SL/UL... (doubles lose precision above 2^53).</summary>
    public IReadOnlyList<long> GetInt64s(DicomTag tag)
    {
        var e = Require(tag);
        if (e.VR == DicomVR.SV || e.VR == DicomVR.UV)
        {
            var span = e.Value.GetBytes().Span;
            var list = new List<long>();
            for (var i = 0; i + 8 <= span.Length; i += 8)
            {
                list.Add(BinaryPrimitives.ReadInt64LittleEndian(span.Slice(i, 8)));
            }
            return list;
        }
        return GetDoubles(tag).Select(d => (long)d).ToList();
    }

    public IReadOnlyList<DicomTag> GetTags(DicomTag tag) => GetTags(Require(tag));

    private static List<DicomTag> GetTags(DicomElement e)
    {
        var span = e.Value.GetBytes().Span;
        var list = new List<DicomTag>();
        for (var i = 0; i + 4 <= span.Length; i += 4)
        {
            list.Add(new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span[i..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(i + 2)..])));
        }
        return list;
    }

    public DateOnly GetDate(DicomTag tag, int index = 0) => DicomDateTimeParser.ParseDate(GetValue(tag, index));
    public TimeOnly GetTime(DicomTag tag, int index = 0) => DicomDateTimeParser.ParseTime(GetValue(tag, index));
    public DicomDateTime GetDateTime(DicomTag tag, int index = 0) => DicomDateTimeParser.ParseDateTime(GetValue(tag, index));

    public DicomPersonName GetPersonName(DicomTag tag, int index = 0) => DicomPersonName.Parse(GetValue(tag, index));

    public IReadOnlyList<DicomPersonName> GetPersonNames(DicomTag tag) => GetStrings(tag).Select(DicomPersonName.Parse).ToList();

    public DicomSequence GetSequence(DicomTag tag) =>
        TryGetItem(tag, out var item) && item is DicomSequence sq ? sq : throw new DicomValueException($"Dataset has no sequence {tag}");

    public bool TryGetSequence(DicomTag tag, out DicomSequence sequence)
    {
        sequence = null!;
        if (TryGetItem(tag, out var item) && item is DicomSequence sq)
        {
            sequence = sq;
            return true;
        }
        return false;
    }

    /// <summary>Raw value bytes (little endian), loading lazy values.</summary>
    public ReadOnlyMemory<byte> GetBytes(DicomTag tag) => Require(tag).Value.GetBytes();

    // ---- typed writing ------------------------------------------------------------------------------

    /// <summary>Sets text values with the dictionary VR (or <paramref name="vr"/>), encoded with the effective character set.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, params string[] values) => AddOrUpdate(tag, DefaultVR(tag), values);

    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(vr);
        ArgumentNullException.ThrowIfNull(values);
        if (vr.Kind == VRKind.Binary || vr.Kind == VRKind.Bytes)
        {
            return AddOrUpdateParsedNumbers(tag, vr, values);
        }
        if (vr.Kind == VRKind.Sequence)
        {
            throw new DicomValueException("Use DicomSequence for SQ");
        }
        var joined = string.Join('\\', values);
        if (tag == DicomTag.SpecificCharacterSet)
        {
            DicomCharacterSet.Parse(values); // reject unknown terms up front
        }
        byte[] bytes = vr.UsesSpecificCharacterSet ? CharacterSet.Encode(joined) : EncodeAscii(joined);
        return AddOrUpdate(new DicomElement(tag, vr, PadToEven(bytes, vr)));
    }

    private static byte[] EncodeAscii(string text)
    {
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] > 0x7E)
            {
                throw new DicomCharacterSetException($"A character at index {i} is not allowed in this VR (default repertoire only)");
            }
            bytes[i] = (byte)text[i];
        }
        return bytes;
    }

    public DicomDataset AddOrUpdate(DicomTag tag, params DicomPersonName[] names) =>
        AddOrUpdate(tag, DicomVR.PN, names.Select(n => n.ToString()).ToArray());

    public DicomDataset AddOrUpdate(DicomTag tag, DateOnly date) => AddOrUpdate(tag, DicomVR.DA, DicomDateTimeParser.FormatDate(date));
    public DicomDataset AddOrUpdate(DicomTag tag, TimeOnly time) => AddOrUpdate(tag, DicomVR.TM, DicomDateTimeParser.FormatTime(time));
    public DicomDataset AddOrUpdate(DicomTag tag, DateTimeOffset dateTime) => AddOrUpdate(tag, DicomVR.DT, DicomDateTimeParser.FormatDateTime(dateTime));

    public DicomDataset AddOrUpdate(DicomTag tag, params ushort[] values) => AddOrUpdateNumbers(tag, DefaultVR(tag, DicomVR.US), values.Select(v => (double)v));
    public DicomDataset AddOrUpdate(DicomTag tag, params int[] values) => AddOrUpdateNumbers(tag, DefaultVR(tag, DicomVR.SL), values.Select(v => (double)v));
    public DicomDataset AddOrUpdate(DicomTag tag, params double[] values) => AddOrUpdateNumbers(tag, DefaultVR(tag, DicomVR.FD), values);

    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes) =>
        AddOrUpdate(new DicomElement(tag, vr, vr.Kind == VRKind.Bytes && bytes.Length % 2 == 1 ? PadToEven(bytes.ToArray(), vr) : bytes));

    public DicomDataset AddOrUpdate(DicomTag tag, params DicomDataset[] items) => AddOrUpdate(new DicomSequence(tag, items));

    private DicomDataset AddOrUpdateParsedNumbers(DicomTag tag, DicomVR vr, string[] values)
    {
        if (vr == DicomVR.AT)
        {
            var bytes = new byte[values.Length * 4];
            for (var i = 0; i < values.Length; i++)
            {
                var t = DicomTag.Parse(values[i]);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4), t.Group);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 4 + 2), t.Element);
            }
            return AddOrUpdate(new DicomElement(tag, vr, bytes));
        }
        return AddOrUpdateNumbers(tag, vr, values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d : throw new DicomValueException($"A value for {tag} is not a number")));
    }

    private DicomDataset AddOrUpdateNumbers(DicomTag tag, DicomVR vr, IEnumerable<double> values)
    {
        if (vr.Kind == VRKind.Text)
        {
            return AddOrUpdate(tag, vr, values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray());
        }
        var list = values.ToList();
        var size = vr.UnitSize;
        var bytes = new byte[list.Count * size];
        for (var i = 0; i < list.Count; i++)
        {
            var s = bytes.AsSpan(i * size, size);
            var v = list[i];
            switch (vr.Code)
            {
                case "US" or "OW": BinaryPrimitives.WriteUInt16LittleEndian(s, checked((ushort)v)); break;
                case "SS": BinaryPrimitives.WriteInt16LittleEndian(s, checked((short)v)); break;
                case "UL" or "OL": BinaryPrimitives.WriteUInt32LittleEndian(s, checked((uint)v)); break;
                case "SL": BinaryPrimitives.WriteInt32LittleEndian(s, checked((int)v)); break;
                case "FL" or "OF": BinaryPrimitives.WriteSingleLittleEndian(s, (float)v); break;
                case "FD" or "OD": BinaryPrimitives.WriteDoubleLittleEndian(s, v); break;
                case "SV": BinaryPrimitives.WriteInt64LittleEndian(s, checked((long)v)); break;
                case "UV" or "OV": BinaryPrimitives.WriteUInt64LittleEndian(s, checked((ulong)v)); break;
                default: s[0] = checked((byte)v); break;
            }
        }
        return AddOrUpdate(new DicomElement(tag, vr, PadToEven(bytes, vr)));
    }

    private static DicomVR DefaultVR(DicomTag tag, DicomVR? fallback = null)
    {
        var entry = DicomDictionary.Find(tag);
        if (entry is null || entry.DefaultVR == DicomVR.NONE || (entry.DefaultVR == DicomVR.UN && fallback is not null))
        {
            return fallback ?? DicomVR.UN;
        }
        return entry.DefaultVR;
    }

    internal static byte[] PadToEven(byte[] bytes, DicomVR vr)
    {
        if (bytes.Length % 2 == 0)
        {
            return bytes;
        }
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = vr.PaddingByte;
        return padded;
    }
}
