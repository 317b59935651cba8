using ServerlessImaging.Dicom;

namespace ServerlessImaging.DimseBench;

/// <summary>Writes N CT instances of 512x512x16-bit with the toolkit writer, one study, one series, fresh UIDs.</summary>
internal static class StudyGenerator
{
    public static async Task<string> GenerateAsync(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var pixels = new byte[512 * 512 * 2];
        Random.Shared.NextBytes(pixels);
        for (var i = 1; i <= count; i++)
        {
            var uid = DicomUid.Generate();
            var ds = new DicomDataset();
            ds.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192");
            ds.AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
            ds.AddOrUpdate(DicomTag.SOPInstanceUID, uid);
            ds.AddOrUpdate(DicomTag.StudyDate, new DateOnly(2024, 5, 1));
            ds.AddOrUpdate(DicomTag.Modality, "CT");
            ds.AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents("BENCH", "Dimse"));
            ds.AddOrUpdate(DicomTag.PatientID, "BENCH-" + study[^8..]);
            ds.AddOrUpdate(DicomTag.StudyInstanceUID, study);
            ds.AddOrUpdate(DicomTag.SeriesInstanceUID, series);
            ds.AddOrUpdate(DicomTag.InstanceNumber, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            ds.AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1);
            ds.AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2");
            ds.AddOrUpdate(DicomTag.Rows, (ushort)512);
            ds.AddOrUpdate(DicomTag.Columns, (ushort)512);
            ds.AddOrUpdate(DicomTag.BitsAllocated, (ushort)16);
            ds.AddOrUpdate(DicomTag.BitsStored, (ushort)16);
            ds.AddOrUpdate(DicomTag.HighBit, (ushort)15);
            ds.AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
            pixels[i % pixels.Length] ^= 0x5A; // every instance differs
            ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels.ToArray());
            var path = Path.Combine(directory, $"{i:D5}.dcm");
            await using (var stream = File.Create(path)) await new DicomFile(ds).SaveAsync(stream);
        }
        return study;
    }
}
