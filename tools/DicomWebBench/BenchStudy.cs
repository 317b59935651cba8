using System.Globalization;
using ServerlessImaging.Dicom;

namespace ServerlessImaging.DicomWebBench;

/// <summary>The benchmark study: N instances of 512x512 16-bit CT-like pixels, written one at a time with the toolkit writer.</summary>
internal static class BenchStudy
{
    public static async Task<(string StudyUid, List<string> Paths)> WriteAsync(string folder, int count, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var random = new Random(42);
        var pixels = new byte[512 * 512 * 2];
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(pixels);
            var sop = DicomUid.Generate();
            var dataset = new DicomDataset();
            dataset.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192");
            dataset.AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2"); // CT Image Storage
            dataset.AddOrUpdate(DicomTag.SOPInstanceUID, sop);
            dataset.AddOrUpdate(DicomTag.StudyInstanceUID, study);
            dataset.AddOrUpdate(DicomTag.SeriesInstanceUID, series);
            dataset.AddOrUpdate(DicomTag.PatientName, "BENCH^DICOMWEB");
            dataset.AddOrUpdate(DicomTag.PatientID, "BENCH-WEB");
            dataset.AddOrUpdate(DicomTag.Modality, "CT");
            dataset.AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(CultureInfo.InvariantCulture));
            dataset.AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1);
            dataset.AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2");
            dataset.AddOrUpdate(DicomTag.Rows, (ushort)512);
            dataset.AddOrUpdate(DicomTag.Columns, (ushort)512);
            dataset.AddOrUpdate(DicomTag.BitsAllocated, (ushort)16);
            dataset.AddOrUpdate(DicomTag.BitsStored, (ushort)16);
            dataset.AddOrUpdate(DicomTag.HighBit, (ushort)15);
            dataset.AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
            dataset.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels.AsMemory());
            var path = Path.Combine(folder, $"{i:D4}.dcm");
            await new DicomFile(dataset).SaveAsync(path, cancellationToken: cancellationToken);
            paths.Add(path);
        }
        return (study, paths);
    }
}
