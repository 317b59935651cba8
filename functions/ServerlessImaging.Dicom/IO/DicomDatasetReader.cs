using System.Buffers.Binary;

namespace ServerlessImaging.Dicom;

/// <summary>Reads a dataset (no preamble, no file meta) from any stream in a given transfer syntax: files, DIMSE P-DATA, multipart parts.
/// Implicit VR LE is what DIMSE command sets use. Deflated syntaxes are inflated here.</summary>
public static class DicomDatasetReader
{
    /// <summary>Reads elements until the end of the stream.</summary>
    public static async ValueTask<DicomDataset> ReadAsync(Stream stream, DicomTransferSyntax syntax, DicomReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(syntax);
        var input = new DicomInput(syntax.IsDeflated ? new System.IO.Compression.DeflateStream(stream, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true) : stream);
        var parser = new DicomParser(input, options ?? DicomReadOptions.Default, null);
        var ds = new DicomDataset();
        await parser.ReadDatasetAsync(ds, DicomParser.Encoding.From(syntax), DicomParser.ToEnd, 0, null, cancellationToken);
        return ds;
    }

    /// <summary>Reads a dataset from bytes in memory.</summary>
    public static ValueTask<DicomDataset> ReadAsync(ReadOnlyMemory<byte> bytes, DicomTransferSyntax syntax, DicomReadOptions? options = null, CancellationToken cancellationToken = default) =>
        ReadAsync(new MemoryStream(bytes.ToArray(), writable: false), syntax, options, cancellationToken);
}

/// <summary>The element-level parser shared by file and stream reading.</summary>
internal sealed class DicomParser(DicomInput input, DicomReadOptions options, string? filePath)
{
    public const long ToEnd = long.MaxValue;
    private const long UntilDelimiter = -1;
    private const uint Undefined = 0xFFFFFFFF;

    internal readonly record struct Encoding(bool Explicit, bool BigEndian)
    {
        public static Encoding From(DicomTransferSyntax ts) => new(ts.IsExplicitVR, ts.IsBigEndian);
        public static Encoding ImplicitLittle => new(false, false);
    }

    public DicomInput Input => input;

    /// <summary>Reads elements into <paramref name="dataset"/> until <paramref name="end"/> (absolute position), an item delimiter
    /// (end = -1) or end of stream (end = ToEnd). With <paramref name="onlyGroup"/>, stops before the first element of another group.</summary>
    public async ValueTask ReadDatasetAsync(DicomDataset dataset, Encoding enc, long end, int depth, ushort? onlyGroup, CancellationToken ct)
    {
        if (depth > options.MaxSequenceDepth)
        {
            throw new DicomMalformedDataException($"Sequences nested deeper than {options.MaxSequenceDepth}", input.Position);
        }
        while (true)
        {
            if (end != UntilDelimiter && end != ToEnd && input.Position >= end)
            {
                if (input.Position > end)
                {
                    throw new DicomMalformedDataException("Element runs past the end of its item", input.Position);
                }
                return;
            }
            if (!await input.TryEnsureAsync(8, ct))
            {
                if (end == ToEnd)
                {
                    // A few zero bytes after the last element (seen in the wild) carry nothing; anything else is a truncated element.
                    if (input.Buffered > 0 && input.Span(input.Buffered).ContainsAnyExcept((byte)0))
                    {
                        throw new DicomMalformedDataException("Truncated element header at end of data", input.Position);
                    }
                    return;
                }
                throw new DicomMalformedDataException("Unexpected end of data inside an item", input.Position + input.Buffered);
            }
            var start = input.Position;
            var head = input.Span(8);
            var group = enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head);
            var element = enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[2..]);
            var tag = new DicomTag(group, element);
            if (onlyGroup is { } g && group != g)
            {
                return;
            }
            if (depth == 0 && options.StopBeforeTag is { } stopBefore && tag.CompareTo(stopBefore) >= 0)
            {
                return;
            }
            if (group == 0xFFFE)
            {
                var delimLength = ReadUInt32(head[4..], enc.BigEndian);
                input.Advance(8);
                if (tag == DicomTag.ItemDelimitation && end == UntilDelimiter)
                {
                    return;
                }
                if (tag == DicomTag.ItemDelimitation || tag == DicomTag.SequenceDelimitation)
                {
                    // Stray delimiter where none is expected: dcmtk tolerates it; it carries no data.
                    if (delimLength != 0)
                    {
                        throw new DicomMalformedDataException("Delimitation item with non-zero length", start);
                    }
                    continue;
                }
                throw new DicomMalformedDataException($"Unexpected item tag {tag} in a dataset", start);
            }

            DicomVR vr;
            uint length;
            if (enc.Explicit)
            {
                if (!DicomVR.TryParse(head[4], head[5], out vr))
                {
                    throw new DicomMalformedDataException($"Invalid VR bytes 0x{head[4]:X2}{head[5]:X2} for {tag}", start + 4);
                }
                if (vr.HasLongLengthInExplicitVR)
                {
                    await input.EnsureAsync(12, ct);
                    length = ReadUInt32(input.Span(12)[8..], enc.BigEndian);
                    input.Advance(12);
                }
                else
                {
                    length = enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head[6..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[6..]);
                    input.Advance(8);
                }
            }
            else
            {
                length = ReadUInt32(head[4..], enc.BigEndian);
                input.Advance(8);
                vr = ImplicitVR(tag, length, dataset);
            }

            var item = await ReadValueAsync(tag, vr, length, enc, depth, start, ct);
            if (item is null)
            {
                continue;
            }
            dataset.AppendOrInsert(item);
        }
    }

    private static DicomVR ImplicitVR(DicomTag tag, uint length, DicomDataset dataset)
    {
        if (tag == DicomTag.PixelData)
        {
            return length == Undefined ? DicomVR.OB : DicomVR.OW;
        }
        var entry = DicomDictionary.Find(tag);
        if (entry is null || entry.DefaultVR == DicomVR.NONE)
        {
            return DicomVR.UN;
        }
        // US or SS (pixel values, LUT descriptors): signed when Pixel Representation, read earlier, is 1.
        if (entry.ValueRepresentations.Count > 1 && entry.ValueRepresentations.Contains(DicomVR.SS) && length <= 0xFFFF
            && dataset.TryGetElement(DicomTag.PixelRepresentation, out var pr) && pr.Length >= 2 && pr.Value.GetBytes().Span[0] == 1)
        {
            return DicomVR.SS;
        }
        return entry.DefaultVR;
    }

    private async ValueTask<DicomItem?> ReadValueAsync(DicomTag tag, DicomVR vr, uint length, Encoding enc, int depth, long start, CancellationToken ct)
    {
        if (length == Undefined)
        {
            if (tag == DicomTag.PixelData || (vr.Kind == VRKind.Bytes && vr != DicomVR.UN))
            {
                return await ReadFragmentsAsync(tag, vr == DicomVR.UN ? DicomVR.OB : vr, enc, ct);
            }
            if (vr == DicomVR.SQ || vr == DicomVR.UN || !enc.Explicit)
            {
                // UN of undefined length is an implicit VR LE sequence (PS3.5 6.2.2).
                var inner = vr == DicomVR.SQ ? enc : Encoding.ImplicitLittle;
                return await ReadSequenceAsync(tag, UntilDelimiter, inner, depth, ct);
            }
            throw new DicomMalformedDataException($"Undefined length on {tag} with VR {vr}", start);
        }
        if (vr == DicomVR.SQ)
        {
            if (length > input.Remaining)
            {
                throw new DicomMalformedDataException($"Sequence length {length} exceeds the remaining data", start);
            }
            return await ReadSequenceAsync(tag, input.Position + length, enc, depth, ct);
        }
        if (tag.IsGroupLength && !options.KeepGroupLengths && tag.Group != 0x0002)
        {
            await input.SkipAsync(length, ct);
            return null;
        }
        var swap = enc.BigEndian ? vr.UnitSize : 1;
        if (filePath is not null && length >= options.LargeValueThreshold)
        {
            if (length > input.Remaining)
            {
                throw new DicomMalformedDataException($"Value length {length} of {tag} exceeds the remaining data", start);
            }
            var source = new FileRangeValueSource(filePath, input.Position, length, swap);
            await input.SkipAsync(length, ct);
            return new DicomElement(tag, vr, source);
        }
        var bytes = length == 0 ? [] : await input.ReadBytesAsync(length, ct);
        if (swap > 1)
        {
            FileRangeValueSource.Swap(bytes, swap);
        }
        return new DicomElement(tag, vr, bytes);
    }

    private async ValueTask<DicomSequence> ReadSequenceAsync(DicomTag tag, long end, Encoding enc, int depth, CancellationToken ct)
    {
        var sequence = new DicomSequence(tag);
        while (end == UntilDelimiter || input.Position < end)
        {
            await input.EnsureAsync(8, ct);
            var start = input.Position;
            var head = input.Span(8);
            var itemTag = new DicomTag(
                enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head),
                enc.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));
            var itemLength = ReadUInt32(head[4..], enc.BigEndian);
            input.Advance(8);
            if (itemTag == DicomTag.SequenceDelimitation)
            {
                break;
            }
            if (itemTag != DicomTag.ItemTag)
            {
                throw new DicomMalformedDataException($"Expected an item in sequence {tag}, found {itemTag}", start);
            }
            var item = new DicomDataset();
            sequence.Add(item);
            if (itemLength != Undefined && itemLength > input.Remaining)
            {
                throw new DicomMalformedDataException($"Item length {itemLength} exceeds the remaining data", start);
            }
            await ReadDatasetAsync(item, enc, itemLength == Undefined ? UntilDelimiter : input.Position + itemLength, depth + 1, null, ct);
        }
        if (end != UntilDelimiter && input.Position != end)
        {
            throw new DicomMalformedDataException($"Sequence {tag} items do not add up to its length", input.Position);
        }
        return sequence;
    }

    private async ValueTask<DicomFragmentSequence> ReadFragmentsAsync(DicomTag tag, DicomVR vr, Encoding enc, CancellationToken ct)
    {
        ReadOnlyMemory<byte>? offsetTable = null;
        var fragments = new List<DicomValueSource>();
        while (true)
        {
            await input.EnsureAsync(8, ct);
            var start = input.Position;
            var head = input.Span(8);
            var itemTag = new DicomTag(ReadUInt16(head, enc.BigEndian), ReadUInt16(head[2..], enc.BigEndian));
            var length = ReadUInt32(head[4..], enc.BigEndian);
            input.Advance(8);
            if (itemTag == DicomTag.SequenceDelimitation)
            {
                break;
            }
            if (itemTag != DicomTag.ItemTag || length == Undefined)
            {
                throw new DicomMalformedDataException($"Expected a fragment item in encapsulated {tag}, found {itemTag}", start);
            }
            if (offsetTable is null)
            {
                offsetTable = length == 0 ? ReadOnlyMemory<byte>.Empty : await input.ReadBytesAsync(length, ct);
                continue;
            }
            if (filePath is not null && length >= options.LargeValueThreshold)
            {
                if (length > input.Remaining)
                {
                    throw new DicomMalformedDataException($"Fragment length {length} exceeds the remaining data", start);
                }
                fragments.Add(new FileRangeValueSource(filePath, input.Position, length));
                await input.SkipAsync(length, ct);
            }
            else
            {
                fragments.Add(DicomValueSource.FromBytes(length == 0 ? [] : await input.ReadBytesAsync(length, ct)));
            }
        }
        return new DicomFragmentSequence(tag, vr, offsetTable ?? ReadOnlyMemory<byte>.Empty, fragments);
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    private static uint ReadUInt32(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
}
