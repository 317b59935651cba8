using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Writing;

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
            // The shared builder gives the patient/study/series/pixel modules; a parse benchmark also wants the
            // multi-valued decimal strings and a nested sequence a real CT header carries.
            var ds = new SyntheticInstance
            {
                StudyInstanceUid = study,
                SeriesInstanceUid = series,
                SpecificCharacterSet = "ISO_IR 100",
                PatientName = "SYNTHETIQUE^Hélène",
                PatientId = "BENCH-0001",
                PatientBirthDate = new DateOnly(1960, 1, 1),
                PatientSex = "F",
                StudyDate = new DateOnly(2024, 5, 14),
                StudyTime = new TimeOnly(9, 30),
                StudyDescription = "TDM thoraco-abdomino-pelvien",
                SeriesNumber = 1,
                InstanceNumber = i + 1,
                Rows = rows,
                Columns = rows,
                BitsStored = 12,
            }.ToDataset((byte[])pixels.Clone())
                .AddOrUpdate(DicomTag.ImageType, "ORIGINAL", "PRIMARY", "AXIAL")
                .AddOrUpdate(DicomTag.ImagePositionPatient, "-250", "-250", (-i * 1.25).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .AddOrUpdate(DicomTag.ImageOrientationPatient, "1", "0", "0", "0", "1", "0")
                .AddOrUpdate(DicomTag.PixelSpacing, "0.9765625", "0.9765625")
                .AddOrUpdate(DicomTag.RescaleIntercept, "-1024")
                .AddOrUpdate(DicomTag.RescaleSlope, "1")
                .AddOrUpdate(DicomTag.ReferencedImageSequence, new DicomDataset()
                    .AddOrUpdate(DicomTag.ReferencedSOPClassUID, DicomVR.UI, SyntheticInstance.CtImageStorage)
                    .AddOrUpdate(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, DicomUid.Generate()));
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
