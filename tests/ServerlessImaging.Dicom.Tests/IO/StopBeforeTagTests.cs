namespace ServerlessImaging.Dicom.Tests.IO;

/// <summary>Reading an instance's header only: the reader stops before the given top-level tag and does not read on.</summary>
public sealed class StopBeforeTagTests
{
    [Fact]
    public async Task A_header_read_stops_before_the_pixel_data_and_reads_little_of_a_large_stream()
    {
        var sop = DicomUid.Generate();
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7")
            .AddOrUpdate(DicomTag.SOPInstanceUID, DicomVR.UI, sop)
            .AddOrUpdate(DicomTag.PatientName, "HEADER^ONLY")
            .AddOrUpdate(DicomTag.Columns, (ushort)2048)
            .AddOrUpdate(DicomTag.Rows, (ushort)1024);
        ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, new byte[4 << 20]);
        var bytes = await new DicomFile(ds).ToBytesAsync();
        await using var stream = new CountingStream(new MemoryStream(bytes));

        var header = await DicomFile.OpenAsync(stream, new DicomReadOptions { StopBeforeTag = new DicomTag(0x7FE0, 0x0000) });

        Assert.Equal(sop, header.Dataset.GetString(DicomTag.SOPInstanceUID));
        Assert.Equal("HEADER^ONLY", header.Dataset.GetString(DicomTag.PatientName));
        Assert.False(header.Dataset.Contains(DicomTag.PixelData));
        Assert.InRange(stream.BytesRead, 1, 1 << 20); // the reader's look-ahead at most, not the 4 MB of pixels

        // Without the option the same stream is read whole.
        var whole = await DicomFile.OpenAsync(new MemoryStream(bytes));
        Assert.True(whole.Dataset.Contains(DicomTag.PixelData));
    }

    [Fact]
    public async Task Elements_inside_sequences_never_stop_the_read()
    {
        var item = new DicomDataset().AddOrUpdate(DicomTag.PatientID, "INNER");
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .Add(new DicomSequence(DicomTag.OtherPatientIDsSequence, item))
            .AddOrUpdate(DicomTag.StudyInstanceUID, DicomVR.UI, DicomUid.Generate());
        var bytes = await new DicomFile(ds).ToBytesAsync();

        // A stop tag below the sequence items' own tags but above the sequence: the item is read whole, the read goes on.
        var header = await DicomFile.OpenAsync(new MemoryStream(bytes), new DicomReadOptions { StopBeforeTag = new DicomTag(0x0020, 0x000E) });

        Assert.Equal("INNER", header.Dataset.GetSequence(DicomTag.OtherPatientIDsSequence).Items[0].GetString(DicomTag.PatientID));
        Assert.True(header.Dataset.Contains(DicomTag.StudyInstanceUID)); // (0020,000D) is before the stop tag
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            BytesRead += n;
            return n;
        }
    }
}
