using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Writing;

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
            var instance = new SyntheticInstance
            {
                StudyInstanceUid = study,
                SeriesInstanceUid = series,
                PatientName = DicomPersonName.FromComponents("BENCH", "Dimse").ToString(),
                PatientId = "BENCH-" + study[^8..],
                StudyDate = new DateOnly(2024, 5, 1),
                InstanceNumber = i,
                Rows = 512,
                Columns = 512,
            };
            pixels[i % pixels.Length] ^= 0x5A; // every instance differs
            await instance.WriteAsync(Path.Combine(directory, $"{i:D5}.dcm"), pixels.ToArray());
        }
        return study;
    }
}
