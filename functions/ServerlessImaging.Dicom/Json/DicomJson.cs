using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ServerlessImaging.Dicom;

/// <summary>Options for DICOM JSON output.</summary>
public sealed record DicomJsonOptions
{
    public static DicomJsonOptions Default { get; } = new();

    /// <summary>Called for every binary value (OB/OW/OF/OD/OL/OV/UN and encapsulated pixel data) with the item and its tag path;
    /// return a URI to write BulkDataURI, or null to write InlineBinary.</summary>
    public Func<DicomItem, IReadOnlyList<DicomTag>, string?>? BulkDataUri { get; init; }

    public bool Indented { get; init; }
}

/// <summary>DICOM JSON model (PS3.18 Annex F) in both directions. PN as Alphabetic/Ideographic/Phonetic objects, IS/DS as numbers,
/// AT as "ggggeeee" strings, binary as InlineBinary (base64) or BulkDataURI. Encapsulated pixel data's InlineBinary holds the
/// encapsulated item stream (offset table and fragments with their item headers), so it round-trips.</summary>
public static class DicomJson
{
    public static string Serialize(DicomDataset dataset, DicomJsonOptions? options = null)
    {
        using var ms = new MemoryStream();
        using (var writer = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = options?.Indented ?? false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, dataset, options);
        }
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    /// <summary>Writes one dataset as a JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(dataset);
        WriteDataset(writer, dataset, options ?? DicomJsonOptions.Default, []);
    }

    private static void WriteDataset(Utf8JsonWriter w, DicomDataset ds, DicomJsonOptions options, List<DicomTag> path)
    {
        w.WriteStartObject();
        foreach (var item in ds)
        {
            path.Add(item.Tag);
            w.WritePropertyName(item.Tag.ToHexString());
            w.WriteStartObject();
            w.WriteString("vr", item.VR.Code);
            switch (item)
            {
                case DicomSequence sq:
                    if (sq.Items.Count > 0)
                    {
                        w.WriteStartArray("Value");
                        foreach (var child in sq.Items)
                        {
                            WriteDataset(w, child, options, path);
                        }
                        w.WriteEndArray();
                    }
                    break;
                case DicomFragmentSequence fs:
                    WriteBinary(w, item, path, options, () => EncapsulatedBytes(fs));
                    break;
                case DicomElement e:
                    WriteElement(w, ds, e, path, options);
                    break;
            }
            w.WriteEndObject();
            path.RemoveAt(path.Count - 1);
        }
        w.WriteEndObject();
    }

    private static void WriteBinary(Utf8JsonWriter w, DicomItem item, List<DicomTag> path, DicomJsonOptions options, Func<byte[]> bytes)
    {
        var uri = options.BulkDataUri?.Invoke(item, path);
        if (uri is not null)
        {
            w.WriteString("BulkDataURI", uri);
            return;
        }
        var b = bytes();
        if (b.Length > 0)
        {
            w.WriteBase64String("InlineBinary", b);
        }
    }

    private static byte[] EncapsulatedBytes(DicomFragmentSequence fs)
    {
        using var ms = new MemoryStream();
        var head = new byte[8];
        void Item(uint length)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(head, 0xFFFE);
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(2), 0xE000);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), length);
            ms.Write(head);
        }
        Item((uint)fs.OffsetTable.Length);
        ms.Write(fs.OffsetTable.Span);
        foreach (var f in fs.Fragments)
        {
            var bytes = f.GetBytes();
            Item((uint)bytes.Length);
            ms.Write(bytes.Span);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(head, 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(2), 0xE0DD);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), 0);
        ms.Write(head);
        return ms.ToArray();
    }

    private static void WriteElement(Utf8JsonWriter w, DicomDataset ds, DicomElement e, List<DicomTag> path, DicomJsonOptions options)
    {
        var vr = e.VR;
        if (vr.Kind == VRKind.Bytes)
        {
            WriteBinary(w, e, path, options, () => e.Value.GetBytes().ToArray());
            return;
        }
        if (e.IsEmpty)
        {
            return;
        }
        if (vr.Kind == VRKind.Binary)
        {
            var span = e.Value.GetBytes().Span;
            if (span.Length < vr.UnitSize)
            {
                return;
            }
            w.WriteStartArray("Value");
            if (vr == DicomVR.AT)
            {
                for (var i = 0; i + 4 <= span.Length; i += 4)
                {
                    w.WriteStringValue(new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span[i..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(i + 2)..])).ToHexString());
                }
                w.WriteEndArray();
                return;
            }
            for (var i = 0; i + vr.UnitSize <= span.Length; i += vr.UnitSize)
            {
                var s = span.Slice(i, vr.UnitSize);
                switch (vr.Code)
                {
                    case "US": w.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(s)); break;
                    case "SS": w.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(s)); break;
                    case "UL": w.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(s)); break;
                    case "SL": w.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(s)); break;
                    case "SV": w.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(s)); break;
                    case "UV": w.WriteNumberValue(BinaryPrimitives.ReadUInt64LittleEndian(s)); break;
                    case "FL": WriteFloat(w, BinaryPrimitives.ReadSingleLittleEndian(s)); break;
                    case "FD": WriteFloat(w, BinaryPrimitives.ReadDoubleLittleEndian(s)); break;
                }
            }
            w.WriteEndArray();
            return;
        }
        var text = ds.DecodeText(e);
        var values = (vr.IsBackslashMultiValued ? text.Split('\\') : [text])
            .Select(raw => vr == DicomVR.ST || vr == DicomVR.LT || vr == DicomVR.UT || vr == DicomVR.UR ? raw : raw.Trim(' ', '\0'))
            .Select(v => vr == DicomVR.PN ? TrimEmptyNameComponents(v) : v)
            .ToList();
        if (values.All(v => v.Length == 0))
        {
            // Only padding or empty components: an empty attribute (PS3.18 F.2.5), as dcmtk writes it.
            return;
        }
        w.WriteStartArray("Value");
        foreach (var v in values)
        {
            if (v.Length == 0 && vr != DicomVR.ST && vr != DicomVR.LT && vr != DicomVR.UT && vr != DicomVR.UR)
            {
                w.WriteNullValue();
                continue;
            }
            if (vr == DicomVR.PN)
            {
                var groups = v.Split('=');
                w.WriteStartObject();
                if (groups[0].Length > 0)
                {
                    w.WriteString("Alphabetic", groups[0]);
                }
                if (groups.Length > 1 && groups[1].Length > 0)
                {
                    w.WriteString("Ideographic", groups[1]);
                }
                if (groups.Length > 2 && groups[2].Length > 0)
                {
                    w.WriteString("Phonetic", groups[2]);
                }
                w.WriteEndObject();
            }
            else if ((vr == DicomVR.IS || vr == DicomVR.DS) && IsJsonNumber(v))
            {
                // Already a JSON number: keep the sender's text ("1.0000000e-6" stays as it is).
                w.WriteRawValue(v, skipInputValidation: true);
            }
            else if (vr == DicomVR.IS && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            {
                w.WriteNumberValue(l);
            }
            else if (vr == DicomVR.DS && decimal.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            {
                w.WriteNumberValue(d);
            }
            else if (vr == DicomVR.DS && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var dbl) && double.IsFinite(dbl))
            {
                w.WriteNumberValue(dbl);
            }
            else
            {
                // Not a valid number for IS/DS: kept as a string rather than lost.
                w.WriteStringValue(v);
            }
        }
        w.WriteEndArray();
    }

    // JSON number grammar (RFC 8259): -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
    private static bool IsJsonNumber(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] == '-')
        {
            i++;
        }
        if (i >= s.Length || !char.IsAsciiDigit(s[i]))
        {
            return false;
        }
        if (s[i] == '0')
        {
            i++;
        }
        else
        {
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
        }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            if (i == start)
            {
                return false;
            }
        }
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-')
            {
                i++;
            }
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            if (i == start)
            {
                return false;
            }
        }
        return i == s.Length;
    }

    // Trailing empty components and groups carry nothing (PS3.5 6.2.1): "^^^^" is an empty name.
    private static string TrimEmptyNameComponents(string value)
    {
        var groups = value.Split('=').Select(g => g.TrimEnd('^', ' ')).ToList();
        while (groups.Count > 0 && groups[^1].Length == 0)
        {
            groups.RemoveAt(groups.Count - 1);
        }
        return string.Join('=', groups);
    }

    private static void WriteFloat(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v))
        {
            w.WriteNumberValue(v);
        }
        else
        {
            w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void WriteFloat(Utf8JsonWriter w, float v)
    {
        if (float.IsFinite(v))
        {
            w.WriteNumberValue(v);
        }
        else
        {
            w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    // ---- reading ------------------------------------------------------------------------------------

    /// <summary>Parses one dataset object. <paramref name="bulkData"/> resolves BulkDataURI values (null: keep a <see cref="BulkDataReferenceSource"/>).</summary>
    public static DicomDataset Deserialize(string json, Func<string, DicomTag, DicomValueSource?>? bulkData = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Deserialize(Encoding.UTF8.GetBytes(json), bulkData);
    }

    public static DicomDataset Deserialize(ReadOnlyMemory<byte> utf8Json, Func<string, DicomTag, DicomValueSource?>? bulkData = null)
    {
        using var doc = Parse(utf8Json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new DicomJsonException("DICOM JSON dataset must be an object");
        }
        return ReadTop(doc.RootElement, bulkData);
    }

    /// <summary>Parses an array of datasets (QIDO-RS and WADO-RS metadata responses).</summary>
    public static IReadOnlyList<DicomDataset> DeserializeArray(ReadOnlyMemory<byte> utf8Json, Func<string, DicomTag, DicomValueSource?>? bulkData = null)
    {
        using var doc = Parse(utf8Json);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new DicomJsonException("DICOM JSON response must be an array of datasets");
        }
        return doc.RootElement.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object
            ? ReadTop(e, bulkData)
            : throw new DicomJsonException("DICOM JSON array entries must be objects")).ToList();
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json)
    {
        try
        {
            return JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new DicomJsonException($"Invalid JSON at line {ex.LineNumber}, byte {ex.BytePositionInLine}", ex);
        }
    }

    private static DicomDataset ReadTop(JsonElement obj, Func<string, DicomTag, DicomValueSource?>? bulkData)
    {
        var ds = new DicomDataset();
        // Text in JSON is Unicode: with no declared character set, non-ASCII text makes the dataset UTF-8.
        if (!obj.TryGetProperty("00080005", out _) && HasNonAscii(obj))
        {
            ds.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192");
        }
        ReadInto(ds, obj, bulkData, 0);
        return ds;
    }

    private static bool HasNonAscii(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!.Any(c => c > 0x7F),
        JsonValueKind.Object => e.EnumerateObject().Any(p => HasNonAscii(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Any(HasNonAscii),
        _ => false,
    };

    private static void ReadInto(DicomDataset ds, JsonElement obj, Func<string, DicomTag, DicomValueSource?>? bulkData, int depth)
    {
        if (depth > 64)
        {
            throw new DicomJsonException("DICOM JSON nested too deeply");
        }
        // Character set first, so that the text after it is encoded with it.
        var props = obj.EnumerateObject().OrderBy(p => p.Name == "00080005" ? 0 : 1).ToList();
        foreach (var prop in props)
        {
            if (prop.Name.Length != 8 || !uint.TryParse(prop.Name, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var tagValue))
            {
                throw new DicomJsonException("DICOM JSON attribute names must be 8 hexadecimal digits");
            }
            var tag = new DicomTag(tagValue);
            var a = prop.Value;
            if (a.ValueKind != JsonValueKind.Object || !a.TryGetProperty("vr", out var vrProp) || vrProp.ValueKind != JsonValueKind.String
                || !DicomVR.TryParse(vrProp.GetString()!, out var vr))
            {
                throw new DicomJsonException($"Attribute {tag} has no valid \"vr\"");
            }
            try
            {
                ds.AddOrUpdate(ReadAttribute(ds, tag, vr, a, bulkData, depth));
            }
            catch (InvalidOperationException ex)
            {
                throw new DicomJsonException($"Attribute {tag} has a value of the wrong JSON type", ex);
            }
            catch (FormatException ex)
            {
                throw new DicomJsonException($"Attribute {tag} has a malformed value", ex);
            }
            catch (OverflowException ex)
            {
                throw new DicomJsonException($"Attribute {tag} has a value out of range for {vr}", ex);
            }
        }
    }

    private static DicomItem ReadAttribute(DicomDataset ds, DicomTag tag, DicomVR vr, JsonElement a, Func<string, DicomTag, DicomValueSource?>? bulkData, int depth)
    {
        if (a.TryGetProperty("BulkDataURI", out var uriProp))
        {
            var uri = uriProp.GetString() ?? throw new DicomJsonException($"Attribute {tag} has an empty BulkDataURI");
            return new DicomElement(tag, vr == DicomVR.SQ ? DicomVR.UN : vr, bulkData?.Invoke(uri, tag) ?? new BulkDataReferenceSource(uri));
        }
        if (a.TryGetProperty("InlineBinary", out var inline))
        {
            var bytes = inline.GetBytesFromBase64();
            if (tag == DicomTag.PixelData && bytes.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(bytes) == 0xE000FFFE)
            {
                return ParseEncapsulated(tag, vr, bytes);
            }
            return new DicomElement(tag, vr, bytes);
        }
        if (!a.TryGetProperty("Value", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return vr == DicomVR.SQ ? new DicomSequence(tag) : new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty);
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new DicomJsonException($"Attribute {tag} \"Value\" must be an array");
        }
        if (vr == DicomVR.SQ)
        {
            var sq = new DicomSequence(tag);
            // Add to the parent first so the items inherit its character set while they are filled.
            ds.AddOrUpdate(sq);
            foreach (var itemJson in value.EnumerateArray())
            {
                if (itemJson.ValueKind != JsonValueKind.Object)
                {
                    throw new DicomJsonException($"Items of sequence {tag} must be objects");
                }
                var item = new DicomDataset();
                sq.Add(item);
                ReadInto(item, itemJson, bulkData, depth + 1);
            }
            return sq;
        }
        if (vr.Kind == VRKind.Binary)
        {
            var values = value.EnumerateArray().ToList();
            var bytes = new byte[values.Count * vr.UnitSize * (vr == DicomVR.AT ? 2 : 1)];
            var span = bytes.AsSpan();
            var o = 0;
            foreach (var v in values)
            {
                switch (vr.Code)
                {
                    case "AT":
                        var t = DicomTag.Parse(v.GetString()!);
                        BinaryPrimitives.WriteUInt16LittleEndian(span[o..], t.Group);
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(o + 2)..], t.Element);
                        o += 4;
                        break;
                    case "US": BinaryPrimitives.WriteUInt16LittleEndian(span[o..], v.GetUInt16()); o += 2; break;
                    case "SS": BinaryPrimitives.WriteInt16LittleEndian(span[o..], v.GetInt16()); o += 2; break;
                    case "UL": BinaryPrimitives.WriteUInt32LittleEndian(span[o..], v.GetUInt32()); o += 4; break;
                    case "SL": BinaryPrimitives.WriteInt32LittleEndian(span[o..], v.GetInt32()); o += 4; break;
                    case "SV": BinaryPrimitives.WriteInt64LittleEndian(span[o..], v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetInt64()); o += 8; break;
                    case "UV": BinaryPrimitives.WriteUInt64LittleEndian(span[o..], v.ValueKind == JsonValueKind.String ? ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetUInt64()); o += 8; break;
                    case "FL": BinaryPrimitives.WriteSingleLittleEndian(span[o..], v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetSingle()); o += 4; break;
                    case "FD": BinaryPrimitives.WriteDoubleLittleEndian(span[o..], v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble()); o += 8; break;
                }
            }
            return new DicomElement(tag, vr, bytes);
        }
        if (vr.Kind == VRKind.Bytes)
        {
            throw new DicomJsonException($"Attribute {tag} with VR {vr} must use InlineBinary or BulkDataURI");
        }
        var strings = new List<string>();
        foreach (var v in value.EnumerateArray())
        {
            strings.Add(v.ValueKind switch
            {
                JsonValueKind.Null => "",
                JsonValueKind.String => v.GetString()!,
                JsonValueKind.Number => v.GetRawText(),
                JsonValueKind.Object when vr == DicomVR.PN => PersonName(v),
                _ => throw new DicomJsonException($"Attribute {tag} has a value of the wrong JSON type"),
            });
        }
        var text = vr.IsBackslashMultiValued ? string.Join('\\', strings) : string.Concat(strings);
        var encoded = vr.UsesSpecificCharacterSet ? ds.CharacterSet.Encode(text) : Latin1OrThrow(text);
        return new DicomElement(tag, vr, DicomDataset.PadToEven(encoded, vr));
    }

    private static byte[] Latin1OrThrow(string text)
    {
        foreach (var c in text)
        {
            if (c > 0x7E)
            {
                throw new DicomCharacterSetException("A value of an ASCII-only VR contains a non-ASCII character");
            }
        }
        return Encoding.ASCII.GetBytes(text);
    }

    private static string PersonName(JsonElement v)
    {
        string G(string name) => v.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
        return new DicomPersonName(G("Alphabetic"), G("Ideographic"), G("Phonetic")).ToString();
    }

    private static DicomFragmentSequence ParseEncapsulated(DicomTag tag, DicomVR vr, byte[] bytes)
    {
        var fragments = new List<DicomValueSource>();
        ReadOnlyMemory<byte>? table = null;
        var o = 0;
        while (o + 8 <= bytes.Length)
        {
            var t = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o));
            var len = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 4));
            o += 8;
            if (t == 0xE0DDFFFE)
            {
                break;
            }
            if (t != 0xE000FFFE || len > bytes.Length - o)
            {
                throw new DicomJsonException($"Encapsulated {tag} InlineBinary is malformed");
            }
            var slice = bytes.AsMemory(o, (int)len);
            if (table is null)
            {
                table = slice;
            }
            else
            {
                fragments.Add(DicomValueSource.FromBytes(slice));
            }
            o += (int)len;
        }
        return new DicomFragmentSequence(tag, vr == DicomVR.UN ? DicomVR.OB : vr, table ?? ReadOnlyMemory<byte>.Empty, fragments);
    }
}
