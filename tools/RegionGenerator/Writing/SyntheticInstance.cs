using System.Globalization;
using ServerlessImaging.Dicom;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>
/// One synthetic single-frame monochrome instance, for benchmarks and tests that need a few valid files with fresh
/// UIDs (so runs never collide in a PACS) rather than a whole region. Optional attributes are written only when set,
/// so each caller keeps exactly the attributes its assertions rely on. The region generator shares
/// <see cref="AddImagePixelModule"/>; its own richer datasets come from <see cref="InstanceDatasetFactory"/>.
/// </summary>
public sealed record SyntheticInstance
{
    public const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";

    public required string StudyInstanceUid { get; init; }
    public required string SeriesInstanceUid { get; init; }
    public string SopInstanceUid { get; init; } = DicomUid.Generate();
    public string SopClassUid { get; init; } = CtImageStorage;
    public string SpecificCharacterSet { get; init; } = "ISO_IR 192";
    public string Modality { get; init; } = "CT";

    public required string PatientName { get; init; }
    public required string PatientId { get; init; }
    public DateOnly? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }

    public DateOnly? StudyDate { get; init; }
    public TimeOnly? StudyTime { get; init; }
    public string? StudyDescription { get; init; }
    public string? AccessionNumber { get; init; }
    public string? StudyId { get; init; }
    public int? SeriesNumber { get; init; }
    public int? InstanceNumber { get; init; }

    public int Rows { get; init; } = 16;
    public int Columns { get; init; } = 16;
    /// <summary>Bits stored of the 16-bit allocated samples.</summary>
    public int BitsStored { get; init; } = 16;

    /// <summary>Bytes of 16-bit pixel data this instance needs: Rows x Columns x 2.</summary>
    public int PixelDataLength => checked(Rows * Columns * 2);

    /// <summary>The dataset with <paramref name="pixels"/> (not copied: the caller must not reuse the buffer until written).</summary>
    public DicomDataset ToDataset(ReadOnlyMemory<byte> pixels)
    {
        if (pixels.Length != PixelDataLength)
        {
            throw new ArgumentException($"pixel data is {pixels.Length} bytes, {Rows}x{Columns}x16-bit needs {PixelDataLength}", nameof(pixels));
        }
        var ds = new DicomDataset();
        // First: text added afterwards is encoded with it.
        ds.AddOrUpdate(DicomTag.SpecificCharacterSet, SpecificCharacterSet);
        ds.AddOrUpdate(DicomTag.SOPClassUID, SopClassUid);
        ds.AddOrUpdate(DicomTag.SOPInstanceUID, SopInstanceUid);
        ds.AddOrUpdate(DicomTag.PatientName, PatientName);
        ds.AddOrUpdate(DicomTag.PatientID, PatientId);
        if (PatientBirthDate is { } birthDate)
        {
            ds.AddOrUpdate(DicomTag.PatientBirthDate, birthDate);
        }
        AddIfSet(ds, DicomTag.PatientSex, PatientSex);
        ds.AddOrUpdate(DicomTag.StudyInstanceUID, StudyInstanceUid);
        if (StudyDate is { } date)
        {
            ds.AddOrUpdate(DicomTag.StudyDate, date);
        }
        if (StudyTime is { } time)
        {
            ds.AddOrUpdate(DicomTag.StudyTime, time);
        }
        AddIfSet(ds, DicomTag.StudyDescription, StudyDescription);
        AddIfSet(ds, DicomTag.AccessionNumber, AccessionNumber);
        AddIfSet(ds, DicomTag.StudyID, StudyId);
        ds.AddOrUpdate(DicomTag.Modality, Modality);
        ds.AddOrUpdate(DicomTag.SeriesInstanceUID, SeriesInstanceUid);
        AddIfSet(ds, DicomTag.SeriesNumber, SeriesNumber?.ToString(CultureInfo.InvariantCulture));
        AddIfSet(ds, DicomTag.InstanceNumber, InstanceNumber?.ToString(CultureInfo.InvariantCulture));
        AddImagePixelModule(ds, Rows, Columns, bitsAllocated: 16, BitsStored);
        ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    /// <summary>Part 10 bytes (Explicit VR Little Endian).</summary>
    public Task<byte[]> ToPart10BytesAsync(ReadOnlyMemory<byte> pixels) => new DicomFile(ToDataset(pixels)).ToBytesAsync();

    /// <summary>Writes a Part 10 file (Explicit VR Little Endian) at <paramref name="path"/>.</summary>
    public async Task WriteAsync(string path, ReadOnlyMemory<byte> pixels, CancellationToken cancellationToken = default)
    {
        var dataset = ToDataset(pixels);
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        await new DicomFile(dataset).SaveAsync(stream, DicomTransferSyntax.ExplicitVRLittleEndian, cancellationToken);
    }

    /// <summary>Image Pixel module of unsigned single-sample MONOCHROME2 pixels (everything but Pixel Data itself).</summary>
    public static void AddImagePixelModule(DicomDataset dataset, int rows, int columns, int bitsAllocated, int bitsStored)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        dataset.AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1);
        dataset.AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2");
        dataset.AddOrUpdate(DicomTag.Rows, (ushort)rows);
        dataset.AddOrUpdate(DicomTag.Columns, (ushort)columns);
        dataset.AddOrUpdate(DicomTag.BitsAllocated, (ushort)bitsAllocated);
        dataset.AddOrUpdate(DicomTag.BitsStored, (ushort)bitsStored);
        dataset.AddOrUpdate(DicomTag.HighBit, (ushort)(bitsStored - 1));
        dataset.AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
    }

    private static void AddIfSet(DicomDataset ds, DicomTag tag, string? value)
    {
        if (value is not null)
        {
            ds.AddOrUpdate(tag, value);
        }
    }
}
