using ServerlessImaging.Dicom.Tests.Support;

namespace ServerlessImaging.Dicom.Tests.IO;

/// <summary>Large values stay in the file: reading a 50 MB pixel data file allocates about as much as reading a 1 MB one.</summary>
public sealed class LargeValueMemoryTests
{
    private static async Task<string> WriteImageAsync(string dir, int pixelBytes)
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7")
            .AddOrUpdate(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
            .AddOrUpdate(DicomTag.Rows, (ushort)1)
            .AddOrUpdate(DicomTag.Columns, (ushort)(pixelBytes / 2));
        var pixels = new byte[pixelBytes];
        new Random(7).NextBytes(pixels);
        ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels);
        var path = Path.Combine(dir, $"{pixelBytes}.dcm");
        await new DicomFile(ds).SaveAsync(path);
        return path;
    }

    private static async Task<long> AllocatedWhileReadingAsync(string path)
    {
        // Warm up JIT and statics so that only the read itself is measured.
        await DicomFile.OpenAsync(path);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var file = await DicomFile.OpenAsync(path);
        var after = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(((DicomElement)file.Dataset[DicomTag.PixelData]!).Value.IsInMemory);
        return after - before;
    }

    [Fact]
    public async Task Reading_a_50MB_file_allocates_no_more_than_reading_a_1MB_file_plus_a_constant()
    {
        var dir = TestPaths.TempDir();
        var small = await WriteImageAsync(dir, 1 << 20);
        var large = await WriteImageAsync(dir, 50 << 20);

        var smallBytes = await AllocatedWhileReadingAsync(small);
        var largeBytes = await AllocatedWhileReadingAsync(large);

        // Generous bound: both reads allocate buffers and headers only (well under 1 MB), never the pixel data.
        Assert.True(largeBytes < smallBytes + 256 * 1024, $"1 MB file: {smallBytes} B allocated, 50 MB file: {largeBytes} B allocated");
        Assert.True(largeBytes < 1 << 20, $"50 MB file read allocated {largeBytes} B");
    }

    [Fact]
    public async Task Lazy_values_are_streamed_when_written_and_read_back_identical()
    {
        var dir = TestPaths.TempDir();
        var path = await WriteImageAsync(dir, 3 << 20);
        var file = await DicomFile.OpenAsync(path);
        var copy = Path.Combine(dir, "copy.dcm");
        await file.SaveAsync(copy);
        var original = (await DicomFile.OpenAsync(path, new DicomReadOptions { LargeValueThreshold = long.MaxValue })).Dataset.GetBytes(DicomTag.PixelData);
        var copied = (await DicomFile.OpenAsync(copy)).Dataset.GetBytes(DicomTag.PixelData);
        Assert.True(original.Span.SequenceEqual(copied.Span));

        // Saving over the very file the lazy value points into must not corrupt it.
        await file.SaveAsync(path);
        var again = (await DicomFile.OpenAsync(path)).Dataset.GetBytes(DicomTag.PixelData);
        Assert.True(original.Span.SequenceEqual(again.Span));
    }
}
