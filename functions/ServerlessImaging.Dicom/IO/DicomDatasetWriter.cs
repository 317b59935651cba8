using System.Buffers.Binary;

namespace ServerlessImaging.Dicom;

/// <summary>Writes a dataset (no preamble, no file meta) to any stream in Implicit VR LE, Explicit VR LE/BE or deflated Explicit VR LE.
/// Sequences and items are written with undefined length; encapsulated pixel data keeps its offset table and fragments.
/// Large values that live in a file are streamed from it, never loaded whole (except when byte-swapping to big endian).</summary>
public static class DicomDatasetWriter
{
    public static async ValueTask WriteAsync(Stream stream, DicomDataset dataset, DicomTransferSyntax syntax, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(syntax);
        if (syntax.IsDeflated)
        {
            await using var deflate = new System.IO.Compression.DeflateStream(stream, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true);
            var inner = new DicomOutput(deflate, explicitVR: true, bigEndian: false);
            await inner.WriteDatasetAsync(dataset, cancellationToken);
            await inner.FlushAsync(cancellationToken);
            return;
        }
        var output = new DicomOutput(stream, syntax.IsExplicitVR, syntax.IsBigEndian);
        await output.WriteDatasetAsync(dataset, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>Encodes a dataset to bytes (handy for DIMSE command sets and small datasets).</summary>
    public static async ValueTask<byte[]> ToBytesAsync(DicomDataset dataset, DicomTransferSyntax syntax, CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        await WriteAsync(ms, dataset, syntax, cancellationToken);
        return ms.ToArray();
    }

    /// <summary>Encoded length of a dataset without sequences' undefined-length overhead ambiguity: exactly the bytes
    /// <see cref="WriteAsync"/> produces (non-deflated). Used for group lengths such as (0000,0000) of a command set.</summary>
    public static long CalculateLength(DicomDataset dataset, DicomTransferSyntax syntax)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(syntax);
        long total = 0;
        foreach (var item in dataset)
        {
            total += ItemLength(item, syntax.IsExplicitVR);
        }
        return total;
    }

    private static long ItemLength(DicomItem item, bool explicitVR)
    {
        long Header(DicomVR vr) => !explicitVR || vr.HasLongLengthInExplicitVR ? (explicitVR ? 12 : 8) : 8;
        switch (item)
        {
            case DicomSequence sq:
                return Header(DicomVR.SQ) + 8 + sq.Items.Sum(i => 16 + CalculateLength(i, explicitVR ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian));
            case DicomFragmentSequence fs:
                return Header(fs.VR) + 8 + Even(fs.OffsetTable.Length) + fs.Fragments.Sum(f => 8 + Even(f.Length)) + 8;
            case DicomElement e:
                var len = Even(e.Length);
                var vr = explicitVR && !e.VR.HasLongLengthInExplicitVR && len > 0xFFFF ? DicomVR.UN : e.VR;
                return Header(vr) + len;
            default:
                return 0;
        }
    }

    private static long Even(long n) => n + (n & 1);
}

/// <summary>Buffered encoder: headers and small values go through a 64 KiB buffer, large values stream straight to the destination.</summary>
internal sealed class DicomOutput(Stream stream, bool explicitVR, bool bigEndian)
{
    private const uint Undefined = 0xFFFFFFFF;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _used;

    public async ValueTask FlushAsync(CancellationToken ct)
    {
        if (_used > 0)
        {
            await stream.WriteAsync(_buffer.AsMemory(0, _used), ct);
            _used = 0;
        }
    }

    private async ValueTask<Memory<byte>> GetAsync(int size, CancellationToken ct)
    {
        if (_buffer.Length - _used < size)
        {
            await FlushAsync(ct);
        }
        var m = _buffer.AsMemory(_used, size);
        _used += size;
        return m;
    }

    public async ValueTask WriteDatasetAsync(DicomDataset dataset, CancellationToken ct)
    {
        foreach (var item in dataset)
        {
            switch (item)
            {
                case DicomSequence sq:
                    await WriteHeaderAsync(sq.Tag, DicomVR.SQ, Undefined, ct);
                    foreach (var child in sq.Items)
                    {
                        await WriteTagLengthAsync(DicomTag.ItemTag, Undefined, ct);
                        await WriteDatasetAsync(child, ct);
                        await WriteTagLengthAsync(DicomTag.ItemDelimitation, 0, ct);
                    }
                    await WriteTagLengthAsync(DicomTag.SequenceDelimitation, 0, ct);
                    break;
                case DicomFragmentSequence fs:
                    await WriteHeaderAsync(fs.Tag, fs.VR, Undefined, ct);
                    await WriteTagLengthAsync(DicomTag.ItemTag, (uint)fs.OffsetTable.Length, ct);
                    await WriteBytesAsync(fs.OffsetTable, ct);
                    foreach (var fragment in fs.Fragments)
                    {
                        var odd = (fragment.Length & 1) == 1;
                        await WriteTagLengthAsync(DicomTag.ItemTag, checked((uint)(fragment.Length + (odd ? 1 : 0))), ct);
                        await WriteValueAsync(fragment, 1, ct);
                        if (odd)
                        {
                            (await GetAsync(1, ct)).Span[0] = 0;
                        }
                    }
                    await WriteTagLengthAsync(DicomTag.SequenceDelimitation, 0, ct);
                    break;
                case DicomElement e:
                    await WriteElementAsync(e, ct);
                    break;
            }
        }
    }

    private async ValueTask WriteElementAsync(DicomElement e, CancellationToken ct)
    {
        var length = e.Length;
        var odd = (length & 1) == 1;
        var padded = length + (odd ? 1 : 0);
        if (padded > uint.MaxValue - 1)
        {
            throw new DicomValueException($"Value of {e.Tag} is too long to encode");
        }
        var vr = e.VR;
        if (explicitVR && !vr.HasLongLengthInExplicitVR && padded > 0xFFFF)
        {
            // Too long for a 16-bit length: PS3.5 6.2.2 lets it be sent as UN.
            vr = DicomVR.UN;
        }
        await WriteHeaderAsync(e.Tag, vr, (uint)padded, ct);
        await WriteValueAsync(e.Value, bigEndian ? e.VR.UnitSize : 1, ct);
        if (odd)
        {
            (await GetAsync(1, ct)).Span[0] = e.VR.PaddingByte;
        }
    }

    private async ValueTask WriteValueAsync(DicomValueSource value, int swapUnit, CancellationToken ct)
    {
        if (value.Length == 0)
        {
            return;
        }
        if (swapUnit > 1)
        {
            var copy = (await value.GetBytesAsync(ct)).ToArray();
            FileRangeValueSource.Swap(copy, swapUnit);
            await WriteBytesAsync(copy, ct);
            return;
        }
        if (value.IsInMemory)
        {
            await WriteBytesAsync(value.GetBytes(), ct);
            return;
        }
        await FlushAsync(ct);
        await value.CopyToAsync(stream, ct);
    }

    private async ValueTask WriteBytesAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.CopyTo(_buffer.AsMemory(_used));
            _used += bytes.Length;
            return;
        }
        await FlushAsync(ct);
        await stream.WriteAsync(bytes, ct);
    }

    private async ValueTask WriteTagLengthAsync(DicomTag tag, uint length, CancellationToken ct)
    {
        var m = await GetAsync(8, ct);
        WriteTag(m.Span, tag);
        WriteUInt32(m.Span[4..], length);
    }

    private async ValueTask WriteHeaderAsync(DicomTag tag, DicomVR vr, uint length, CancellationToken ct)
    {
        if (!explicitVR)
        {
            await WriteTagLengthAsync(tag, length, ct);
            return;
        }
        if (vr.HasLongLengthInExplicitVR)
        {
            var m = (await GetAsync(12, ct)).Span;
            WriteTag(m, tag);
            m[4] = (byte)vr.Code[0];
            m[5] = (byte)vr.Code[1];
            m[6] = 0;
            m[7] = 0;
            WriteUInt32(m[8..], length);
        }
        else
        {
            var m = (await GetAsync(8, ct)).Span;
            WriteTag(m, tag);
            m[4] = (byte)vr.Code[0];
            m[5] = (byte)vr.Code[1];
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(m[6..], (ushort)length);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(m[6..], (ushort)length);
            }
        }
    }

    private void WriteTag(Span<byte> s, DicomTag tag)
    {
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], tag.Element);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        }
    }

    private void WriteUInt32(Span<byte> s, uint v)
    {
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(s, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s, v);
        }
    }
}
