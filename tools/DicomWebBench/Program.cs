using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Multipart;
using ServerlessImaging.Dicom.Web.Stow;
using ServerlessImaging.DicomWebBench;

// dicomweb-bench [--orthanc http://127.0.0.1:8144/] [--instances 100] [--rounds 3]
// STOW-RS of one study into Orthanc: our client (files streamed into one request) vs curl posting
// the same multipart body from a file, alternating, deleting the study through Orthanc's REST API between runs.
var orthanc = new Uri(Arg("--orthanc") ?? "http://127.0.0.1:8144/");
var instanceCount = int.Parse(Arg("--instances") ?? "100", CultureInfo.InvariantCulture);
var rounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
var dicomWeb = new Uri(orthanc, "dicom-web/");
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(20));
var ct = cancel.Token;

var work = Directory.CreateTempSubdirectory("dicomweb-bench-").FullName;
try
{
    Console.WriteLine($"Generating {instanceCount} instances of 512x512x16-bit...");
    var (study, paths) = await BenchStudy.WriteAsync(Path.Combine(work, "study"), instanceCount, ct);
    var totalBytes = paths.Sum(p => new FileInfo(p).Length);

    // The same body curl will post: written once with our multipart writer and a fixed boundary.
    const string boundary = "dicomweb-bench-boundary-0123456789";
    var bodyPath = Path.Combine(work, "body.multipart");
    await using (var body = File.Create(bodyPath))
    {
        var writer = new MultipartWriter(body, boundary);
        foreach (var path in paths)
        {
            await using var file = File.OpenRead(path);
            await writer.WritePartAsync("application/dicom", file, ct);
        }
        await writer.CompleteAsync(ct);
    }

    using var rest = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
    using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = dicomWeb });
    await DeleteStudyAsync(rest, orthanc, study, ct);
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var baselineWorkingSet = Environment.WorkingSet;

    var ours = new List<double>();
    var curl = new List<double>();
    long peakWorkingSet = 0;
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
    for (var round = 0; round < rounds; round++)
    {
        // Interleaved: odd rounds run curl first, so neither side always follows the DELETE of the other's study.
        if (round % 2 == 1)
        {
            curl.Add(await CurlOnceAsync());
        }
        ours.Add(await OursOnceAsync());
        if (round % 2 == 0)
        {
            curl.Add(await CurlOnceAsync());
        }
        Console.WriteLine($"round {round + 1} ({(round % 2 == 0 ? "ours first" : "curl first")}): ours {ours[^1]:F2} s, curl {curl[^1]:F2} s, ratio {curl[^1] / ours[^1]:F2}x");
    }

    async Task<double> OursOnceAsync()
    {
        // Sample the working set while the request streams.
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);
        var watch = Stopwatch.StartNew();
        var result = await client.StoreFilesAsync(paths, cancellationToken: ct);
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        if (result.Outcome != StowOutcome.Success || result.Stored.Count != instanceCount)
        {
            throw new InvalidOperationException($"our STOW stored {result.Stored.Count}/{instanceCount} ({result.Outcome})");
        }
        await DeleteStudyAsync(rest, orthanc, study, ct);
        return watch.Elapsed.TotalSeconds;
    }

    async Task<double> CurlOnceAsync()
    {
        var curlWatch = Stopwatch.StartNew();
        var status = await RunCurlAsync(bodyPath, boundary, new Uri(dicomWeb, "studies"), ct);
        curlWatch.Stop();
        if (status != "200")
        {
            throw new InvalidOperationException($"curl STOW answered HTTP {status}");
        }
        await DeleteStudyAsync(rest, orthanc, study, ct);
        return curlWatch.Elapsed.TotalSeconds;
    }

    var megabytes = totalBytes / 1e6;
    var oursBest = ours.Min();
    var curlBest = curl.Min();
    Console.WriteLine();
    Console.WriteLine($"STOW-RS into Orthanc, {instanceCount} instances, {megabytes:F1} MB, best of {rounds}:");
    Console.WriteLine($"  ours : {instanceCount / oursBest,7:F1} instances/s  {megabytes / oursBest,7:F1} MB/s  (median {ours.Order().ElementAt(rounds / 2):F2} s)");
    Console.WriteLine($"  curl : {instanceCount / curlBest,7:F1} instances/s  {megabytes / curlBest,7:F1} MB/s  (median {curl.Order().ElementAt(rounds / 2):F2} s)");
    var oursMedian = ours.Order().ElementAt(rounds / 2);
    var curlMedian = curl.Order().ElementAt(rounds / 2);
    var perRound = ours.Zip(curl, (o, c) => c / o).Order().ToList();
    Console.WriteLine($"  ratio ours/curl (throughput): best-vs-best {curlBest / oursBest:F2}x, median-vs-median {curlMedian / oursMedian:F2}x, per-round median {perRound[perRound.Count / 2]:F2}x (target >= 1.0x)");
    Console.WriteLine($"  our peak working set during STOW: {peakWorkingSet / 1e6:F0} MB (before the first STOW: {baselineWorkingSet / 1e6:F0} MB; study size {megabytes:F0} MB)");
}
finally
{
    Directory.Delete(work, recursive: true);
}

string? Arg(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static async Task<string> RunCurlAsync(string bodyPath, string boundary, Uri url, CancellationToken ct)
{
    var start = new ProcessStartInfo("curl")
    {
        RedirectStandardOutput = true,
        UseShellExecute = false,
        ArgumentList =
        {
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
            "-H", $"Content-Type: multipart/related; type=\"application/dicom\"; boundary={boundary}",
            "-H", "Accept: application/dicom+json",
            "-H", "Expect:", // otherwise curl waits ~1 s for a 100-continue that Orthanc never sends
            "--data-binary", "@" + bodyPath, url.AbsoluteUri,
        },
    };
    using var process = Process.Start(start) ?? throw new InvalidOperationException("curl did not start");
    var output = await process.StandardOutput.ReadToEndAsync(ct);
    await process.WaitForExitAsync(ct);
    return output.Trim();
}

static async Task DeleteStudyAsync(HttpClient rest, Uri orthanc, string studyUid, CancellationToken ct)
{
    using var lookup = await rest.PostAsync(new Uri(orthanc, "tools/lookup"), new StringContent(studyUid), ct);
    lookup.EnsureSuccessStatusCode();
    using var matches = JsonDocument.Parse(await lookup.Content.ReadAsStringAsync(ct));
    foreach (var match in matches.RootElement.EnumerateArray())
    {
        if (match.GetProperty("Type").GetString() == "Study")
        {
            using var delete = await rest.DeleteAsync(new Uri(orthanc, "studies/" + match.GetProperty("ID").GetString()), ct);
            delete.EnsureSuccessStatusCode();
        }
    }
}
