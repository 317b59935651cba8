namespace ServerlessImaging.Dicom.Web.Tests.Service;

/// <summary>Small Part 10 files written with the toolkit writer, unique UIDs on every run.</summary>
internal static class SyntheticStudy
{
    public sealed record Instance(string StudyUid, string SeriesUid, string SopUid, byte[] Part10);

    public static async Task<List<Instance>> CreateAsync(int seriesCount, int instancesPerSeries, string patientName = "SYNTHETIC^WEB", string characterSet = "ISO_IR 192", int size = 32)
    {
        var study = DicomUid.Generate();
        var instances = new List<Instance>();
        var random = new Random(study.GetHashCode(StringComparison.Ordinal));
        for (var s = 0; s < seriesCount; s++)
        {
            var series = DicomUid.Generate();
            for (var i = 0; i < instancesPerSeries; i++)
            {
                var sop = DicomUid.Generate();
                var dataset = new DicomDataset();
                dataset.AddOrUpdate(DicomTag.SpecificCharacterSet, characterSet);
                dataset.AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7"); // Secondary Capture
                dataset.AddOrUpdate(DicomTag.SOPInstanceUID, sop);
                dataset.AddOrUpdate(DicomTag.StudyInstanceUID, study);
                dataset.AddOrUpdate(DicomTag.SeriesInstanceUID, series);
                dataset.AddOrUpdate(DicomTag.PatientName, patientName);
                dataset.AddOrUpdate(DicomTag.PatientID, "WEB-" + study[^8..]);
                dataset.AddOrUpdate(DicomTag.StudyDate, "20240115");
                dataset.AddOrUpdate(DicomTag.Modality, "OT");
                dataset.AddOrUpdate(DicomTag.SeriesNumber, (s + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                dataset.AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                dataset.AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1);
                dataset.AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2");
                dataset.AddOrUpdate(DicomTag.Rows, (ushort)size);
                dataset.AddOrUpdate(DicomTag.Columns, (ushort)size);
                dataset.AddOrUpdate(DicomTag.BitsAllocated, (ushort)16);
                dataset.AddOrUpdate(DicomTag.BitsStored, (ushort)12);
                dataset.AddOrUpdate(DicomTag.HighBit, (ushort)11);
                dataset.AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
                var pixels = new byte[size * size * 2];
                random.NextBytes(pixels);
                dataset.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels);
                var bytes = await new DicomFile(dataset).ToBytesAsync();
                instances.Add(new Instance(study, series, sop, bytes));
            }
        }
        return instances;
    }
}
