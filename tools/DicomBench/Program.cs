using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.Dicom;
using ServerlessImaging.DicomBench;

// Usage: dotnet run -c Release --project tools/DicomBench [-- INSTANCES [ROWS]]
// Internal: dicom-bench --parse lazy|full DIR  (the child process the benchmark times, like dcmdump)
if (args.Length == 3 && args[0] == "--parse")
{
    var parseOptions = args[1] == "full" ? new DicomReadOptions { LargeValueThreshold = long.MaxValue } : DicomReadOptions.Default;
    await ParseAllAsync(Directory.GetFiles(args[2], "*.dcm"), parseOptions);
    return;
}

// Writes a synthetic CT-like study (default 100 instances of 512x512x16-bit, ~52 MB), then times
// parsing it with this toolkit and with dcmtk's dcmdump in the same run, and prints the ratios.
var instances = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 512;
var dir = Path.Combine(Path.GetTempPath(), "dicom-bench", $"{instances}x{rows}");
var files = await SyntheticStudy.EnsureAsync(dir, instances, rows);
var totalBytes = files.Sum(f => new FileInfo(f).Length);
Console.WriteLine($"study: {files.Count} files, {totalBytes / 1e6:F1} MB in {dir}");

const int Rounds = 5;
var results = new List<(string Name, double Seconds, long PeakBytes)>();

foreach (var (name, mode) in new[] { ("toolkit process, lazy pixel data", "lazy"), ("toolkit process, everything loaded", "full") })
{
    await RunChildAsync(dir, mode); // warm-up
    var best = double.MaxValue;
    long peak = 0;
    for (var r = 0; r < Rounds; r++)
    {
        var (seconds, hwm) = await RunChildAsync(dir, mode);
        best = Math.Min(best, seconds);
        peak = Math.Max(peak, hwm);
    }
    results.Add((name, best, peak));
}

foreach (var (name, options) in new[]
{
    ("toolkit in-process, lazy", DicomReadOptions.Default),
    ("toolkit in-process, everything loaded", new DicomReadOptions { LargeValueThreshold = long.MaxValue }),
})
{
    await ParseAllAsync(files, options); // warm-up (JIT, page cache)
    var best = double.MaxValue;
    for (var r = 0; r < Rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        await ParseAllAsync(files, options);
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
    }
    results.Add((name, best, 0));
}

foreach (var (name, flag) in new[] { ("dcmdump -M (long values not loaded)", "-M"), ("dcmdump +M (everything loaded)", "+M") })
{
    await RunDcmdumpAsync(files, flag); // warm-up
    var best = double.MaxValue;
    long peak = 0;
    for (var r = 0; r < Rounds; r++)
    {
        var (seconds, hwm) = await RunDcmdumpAsync(files, flag);
        best = Math.Min(best, seconds);
        peak = Math.Max(peak, hwm);
    }
    results.Add((name, best, peak));
}

Console.WriteLine();
Console.WriteLine($"{"reader",-40} {"best of " + Rounds,10} {"MB/s",10} {"peak RSS",10}");
foreach (var (name, seconds, peak) in results)
{
    Console.WriteLine($"{name,-40} {seconds,9:F3}s {totalBytes / 1e6 / seconds,10:F0} {peak / 1e6,8:F0}MB");
}
Console.WriteLine();
Console.WriteLine($"time ratio dcmdump -M / toolkit process (lazy) : {results[4].Seconds / results[0].Seconds:F2} (>1 means the toolkit is faster)");
Console.WriteLine($"time ratio dcmdump +M / toolkit process (full) : {results[5].Seconds / results[1].Seconds:F2}");
Console.WriteLine($"time ratio dcmdump -M / toolkit in-process     : {results[4].Seconds / results[2].Seconds:F2}");
Console.WriteLine($"time ratio dcmdump +M / toolkit in-process (full): {results[5].Seconds / results[3].Seconds:F2}");
Console.WriteLine($"peak RSS ratio toolkit process (lazy) / dcmdump -M : {(double)results[0].PeakBytes / results[4].PeakBytes:F1}");
Console.WriteLine("(process rows include process start: .NET runtime start-up for the toolkit; dcmdump also formats text.)");

static async Task<(double Seconds, long PeakBytes)> RunChildAsync(string dir, string mode)
{
    var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false };
    psi.ArgumentList.Add(typeof(SyntheticStudy).Assembly.Location);
    psi.ArgumentList.Add("--parse");
    psi.ArgumentList.Add(mode);
    psi.ArgumentList.Add(dir);
    return await MeasureAsync(psi);
}

static async Task<(double Seconds, long PeakBytes)> MeasureAsync(ProcessStartInfo psi)
{
    psi.RedirectStandardOutput = true;
    psi.RedirectStandardError = true;
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var drainOut = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
    var drainErr = p.StandardError.BaseStream.CopyToAsync(Stream.Null);
    long peak = 0;
    while (!p.HasExited)
    {
        peak = Math.Max(peak, ProcStatus.PeakResidentBytes(p.Id));
        await Task.Delay(1);
    }
    await Task.WhenAll(drainOut, drainErr);
    await p.WaitForExitAsync();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException($"{psi.FileName} exited with {p.ExitCode}");
    }
    return (sw.Elapsed.TotalSeconds, peak);
}

static async Task ParseAllAsync(IReadOnlyList<string> files, DicomReadOptions options)
{
    foreach (var f in files)
    {
        var file = await DicomFile.OpenAsync(f, options);
        if (!file.Dataset.Contains(DicomTag.PixelData))
        {
            throw new InvalidOperationException("benchmark file without pixel data");
        }
    }
}

static async Task<(double Seconds, long PeakBytes)> RunDcmdumpAsync(IReadOnlyList<string> files, string flag)
{
    var psi = new ProcessStartInfo("dcmdump") { UseShellExecute = false };
    psi.ArgumentList.Add(flag);
    psi.ArgumentList.Add("-q");
    foreach (var f in files)
    {
        psi.ArgumentList.Add(f);
    }
    return await MeasureAsync(psi);
}
