using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Writing;

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
            var instance = new SyntheticInstance
            {
                StudyInstanceUid = study,
                SeriesInstanceUid = series,
                PatientName = "BENCH^DICOMWEB",
                PatientId = "BENCH-WEB",
                InstanceNumber = i + 1,
                Rows = 512,
                Columns = 512,
            };
            var path = Path.Combine(folder, $"{i:D4}.dcm");
            // Written before the buffer is refilled for the next instance.
            await instance.WriteAsync(path, pixels, cancellationToken);
            paths.Add(path);
        }
        return (study, paths);
    }
}
