using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.Dicom.Web.Tests.Service;

/// <summary>Small Part 10 files from the shared <see cref="SyntheticInstance"/> builder, unique UIDs on every run.</summary>
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
                var instance = new SyntheticInstance
                {
                    StudyInstanceUid = study,
                    SeriesInstanceUid = series,
                    SopClassUid = SyntheticInstance.SecondaryCaptureImageStorage,
                    SpecificCharacterSet = characterSet,
                    Modality = "OT",
                    PatientName = patientName,
                    PatientId = "WEB-" + study[^8..],
                    StudyDate = new DateOnly(2024, 1, 15),
                    SeriesNumber = s + 1,
                    InstanceNumber = i + 1,
                    Rows = size,
                    Columns = size,
                    BitsStored = 12,
                };
                var pixels = new byte[instance.PixelDataLength];
                random.NextBytes(pixels);
                instances.Add(new Instance(study, series, instance.SopInstanceUid, await instance.ToPart10BytesAsync(pixels)));
            }
        }
        return instances;
    }
}
