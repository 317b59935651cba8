using ServerlessImaging.Dicom;

namespace ServerlessImaging.DicomBench;

/// <summary>Writes (once) a CT-like series with this toolkit's writer: realistic header, 16-bit native pixel data.</summary>
internal static class SyntheticStudy
{
    public static async Task<IReadOnlyList<string>> EnsureAsync(string dir, int instances, int rows)
    {
        Directory.CreateDirectory(dir);
        var existing = Directory.GetFiles(dir, "*.dcm").Order(StringComparer.Ordinal).ToList();
        if (existing.Count == instances)
        {
            return existing;
        }
        foreach (var f in existing)
        {
            File.Delete(f);
        }
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var random = new Random(42);
        var pixels = new byte[rows * rows * 2];
        var files = new List<string>();
        for (var i = 0; i < instances; i++)
        {
            random.NextBytes(pixels);
            var ds = new DicomDataset()
                .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100")
                .AddOrUpdate(DicomTag.ImageType, "ORIGINAL", "PRIMARY", "AXIAL")
                .AddOrUpdate(DicomTag.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2")
                .AddOrUpdate(DicomTag.SOPInstanceUID, DicomVR.UI, DicomUid.Generate())
                .AddOrUpdate(DicomTag.StudyDate, new DateOnly(2024, 5, 14))
                .AddOrUpdate(DicomTag.StudyTime, new TimeOnly(9, 30))
                .AddOrUpdate(DicomTag.Modality, "CT")
                .AddOrUpdate(DicomTag.StudyDescription, "TDM thoraco-abdomino-pelvien")
                .AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents("SYNTHETIQUE", "Hélène"))
                .AddOrUpdate(DicomTag.PatientID, "BENCH-0001")
                .AddOrUpdate(DicomTag.PatientBirthDate, new DateOnly(1960, 1, 1))
                .AddOrUpdate(DicomTag.PatientSex, "F")
                .AddOrUpdate(DicomTag.StudyInstanceUID, DicomVR.UI, study)
                .AddOrUpdate(DicomTag.SeriesInstanceUID, DicomVR.UI, series)
                .AddOrUpdate(DicomTag.SeriesNumber, "1")
                .AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .AddOrUpdate(DicomTag.ImagePositionPatient, "-250", "-250", (-i * 1.25).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .AddOrUpdate(DicomTag.ImageOrientationPatient, "1", "0", "0", "0", "1", "0")
                .AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1)
                .AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2")
                .AddOrUpdate(DicomTag.Rows, (ushort)rows)
                .AddOrUpdate(DicomTag.Columns, (ushort)rows)
                .AddOrUpdate(DicomTag.PixelSpacing, "0.9765625", "0.9765625")
                .AddOrUpdate(DicomTag.BitsAllocated, (ushort)16)
                .AddOrUpdate(DicomTag.BitsStored, (ushort)12)
                .AddOrUpdate(DicomTag.HighBit, (ushort)11)
                .AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0)
                .AddOrUpdate(DicomTag.RescaleIntercept, "-1024")
                .AddOrUpdate(DicomTag.RescaleSlope, "1")
                .AddOrUpdate(DicomTag.ReferencedImageSequence, new DicomDataset()
                    .AddOrUpdate(DicomTag.ReferencedSOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2")
                    .AddOrUpdate(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, DicomUid.Generate()))
                .AddOrUpdate(DicomTag.PixelData, DicomVR.OW, (byte[])pixels.Clone());
            var path = Path.Combine(dir, $"{i:D5}.dcm");
            await new DicomFile(ds).SaveAsync(path);
            files.Add(path);
        }
        return files;
    }
}

/// <summary>Peak resident set (VmHWM) of a running process, from /proc.</summary>
internal static class ProcStatus
{
    public static long PeakResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process exited between checks.
        }
        return 0;
    }
}
