using System.Buffers.Binary;

namespace ServerlessImaging.Dicom.Tests.IO;

public sealed class MalformedInputTests
{
    private static byte[] Element(ushort group, ushort element, string vr, uint length, byte[]? value = null)
    {
        var longForm = vr is "OB" or "OW" or "SQ" or "UN" or "UT";
        var head = new byte[longForm ? 12 : 8];
        BinaryPrimitives.WriteUInt16LittleEndian(head, group);
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(2), element);
        head[4] = (byte)vr[0];
        head[5] = (byte)vr[1];
        if (longForm)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(8), length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(6), (ushort)length);
        }
        return [.. head, .. value ?? []];
    }

    [Fact]
    public async Task A_length_beyond_the_end_of_data_is_a_malformed_data_error_not_an_allocation()
    {
        var bytes = Element(0x0010, 0x0010, "OB", 0xFFFFFFF0, [1, 2, 3, 4]);
        var ex = await Assert.ThrowsAsync<DicomMalformedDataException>(() =>
            DicomDatasetReader.ReadAsync(bytes, DicomTransferSyntax.ExplicitVRLittleEndian).AsTask());
        Assert.True(ex.Offset >= 0);
    }

    [Fact]
    public async Task A_lying_length_on_a_non_seekable_stream_fails_without_allocating_it()
    {
        var bytes = Element(0x0010, 0x0010, "OB", 2_000_000_000, new byte[100]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        await Assert.ThrowsAsync<DicomMalformedDataException>(() =>
            DicomDatasetReader.ReadAsync(new NonSeekableStream(bytes), DicomTransferSyntax.ExplicitVRLittleEndian).AsTask());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public async Task Invalid_vr_bytes_report_their_offset()
    {
        var bytes = Element(0x0010, 0x0010, "zz", 2, [65, 66]);
        var ex = await Assert.ThrowsAsync<DicomMalformedDataException>(() =>
            DicomDatasetReader.ReadAsync(bytes, DicomTransferSyntax.ExplicitVRLittleEndian).AsTask());
        Assert.Equal(4, ex.Offset);
    }

    [Fact]
    public async Task Truncated_file_and_unknown_syntax_raise_typed_errors()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTag.PatientID, "X").AddOrUpdate(DicomTag.SOPInstanceUID, DicomVR.UI, "1.2");
        var bytes = await new DicomFile(ds).ToBytesAsync();
        await Assert.ThrowsAnyAsync<DicomException>(() => DicomFile.OpenAsync(new MemoryStream(bytes[..(bytes.Length - 3)])));

        var unknown = new DicomFile(ds, new DicomDataset().AddOrUpdate(DicomTag.TransferSyntaxUID, DicomVR.UI, "1.2.3.999"));
        var meta = await unknown.ToBytesAsync();
        // SaveAsync rewrites the syntax UID; patch the bytes to an unknown syntax of the same length instead.
        var text = System.Text.Encoding.ASCII.GetBytes("1.2.840.10008.1.2.1\0");
        var at = meta.AsSpan().IndexOf(text);
        "1.2.840.10008.9.9.9\0"u8.CopyTo(meta.AsSpan(at));
        await Assert.ThrowsAsync<DicomUnsupportedTransferSyntaxException>(() => DicomFile.OpenAsync(new MemoryStream(meta)));
    }

    [Fact]
    public async Task Dataset_stream_reader_and_writer_round_trip_an_implicit_command_set()
    {
        var command = new DicomDataset()
            .AddOrUpdate(DicomTag.AffectedSOPClassUID, DicomVR.UI, "1.2.840.10008.1.1")
            .AddOrUpdate(DicomTag.CommandField, (ushort)0x0030)
            .AddOrUpdate(DicomTag.MessageID, (ushort)7)
            .AddOrUpdate(DicomTag.CommandDataSetType, (ushort)0x0101);
        var length = DicomDatasetWriter.CalculateLength(command, DicomTransferSyntax.ImplicitVRLittleEndian);
        var bytes = await DicomDatasetWriter.ToBytesAsync(command, DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal(bytes.Length, length);
        var back = await DicomDatasetReader.ReadAsync(new NonSeekableStream(bytes), DicomTransferSyntax.ImplicitVRLittleEndian);
        Assert.Equal(7, back.GetInt32(DicomTag.MessageID));
        Assert.Equal(DicomVR.US, back[DicomTag.CommandField]!.VR);
        Assert.Equal("1.2.840.10008.1.1", back.GetString(DicomTag.AffectedSOPClassUID));
    }

    /// <summary>A network-like stream: no length, no seeking, short reads.</summary>
    internal sealed class NonSeekableStream(byte[] data) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 7), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
