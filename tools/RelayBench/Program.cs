using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;

// RelayBench [instances=200] [rounds=2]
// Relay (own process, C-GET and C-MOVE) vs baseline (getscu into a folder, then Azure SDK upload of the folder), same study, same run.
var instances = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
var stack = Stack.Load();
var work = Path.Combine(Path.GetTempPath(), "relaybench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
try
{
    Console.WriteLine($"Generating and loading a {instances}-instance 512x512x16-bit CT study into CHUNORD...");
    var (studyUid, bytes) = await Study.GenerateAsync(Path.Combine(work, "source"), instances);
    await Tools.RunAsync("storescu", ["-aet", "STORESCU", "-aec", stack.PacsAe, stack.PacsHost, stack.PacsPort.ToString(CultureInfo.InvariantCulture), "+sd", Path.Combine(work, "source")]);
    Console.WriteLine($"Study: {instances} instances, {bytes / 1e6:F1} MB.");

    var results = new List<(string Name, TimeSpan Elapsed, long PeakBytes)>();
    for (var round = 1; round <= rounds; round++)
    {
        results.Add(("baseline getscu+upload", await Baseline.RunAsync(stack, studyUid, Path.Combine(work, $"getscu-{round}")), 0));
    }

    // One long-running relay process per method (as in production), one retrieval per round into a fresh container.
    foreach (var method in new[] { "Get", "Move" })
    {
        var (times, peak) = await RelayRun.RunAsync(stack, studyUid, method, instances, rounds, Path.Combine(work, $"relay-{method}"));
        results.AddRange(times.Select(t => ($"relay {method}", t, peak)));
    }

    Console.WriteLine();
    Console.WriteLine($"{"run",-26} {"best s",8} {"inst/s",8} {"MB/s",8} {"peak RSS MB",12} {"ratio vs baseline",18}");
    var baseline = results.Where(r => r.Name.StartsWith("baseline", StringComparison.Ordinal)).Min(r => r.Elapsed);
    foreach (var group in results.GroupBy(r => r.Name))
    {
        var best = group.Min(r => r.Elapsed);
        var peak = group.Max(r => r.PeakBytes);
        Console.WriteLine($"{group.Key,-26} {best.TotalSeconds,8:F2} {instances / best.TotalSeconds,8:F0} {bytes / 1e6 / best.TotalSeconds,8:F1} {(peak == 0 ? "-" : (peak / 1e6).ToString("F0", CultureInfo.InvariantCulture)),12} {best / baseline,17:F2}x");
    }

    Console.WriteLine("Ratio = relay time / baseline time (best of each over the rounds); target <= 1.0x. Relay time is end to end:");
    Console.WriteLine("command enqueued -> RetrievalCompleted event read, including queue polling, image-level C-FIND and staging listing.");
}
finally
{
    Directory.Delete(work, recursive: true);
}

/// <summary>Endpoints from .local/stack/stack.json.</summary>
internal sealed record Stack(string Storage, string PacsAe, string PacsHost, int PacsPort, string RelayAe, int RelayPort)
{
    public static Stack Load()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
        {
            dir = dir.Parent;
        }

        var path = dir is null ? throw new InvalidOperationException("Run from inside the repository.") : Path.Combine(dir.FullName, ".local", "stack", "stack.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        var pacs = root.GetProperty("sitePacs").EnumerateArray().First(s => s.GetProperty("site").GetString() == "chu-nord");
        var relay = root.GetProperty("callingAeTitles").EnumerateArray().First(a => a.GetProperty("aeTitle").GetString() == "SI_RELAY_NORD");
        return new Stack(
            root.GetProperty("storage").GetProperty("connectionString").GetString()!,
            pacs.GetProperty("aeTitle").GetString()!,
            pacs.GetProperty("host").GetString()!,
            pacs.GetProperty("dicomPort").GetInt32(),
            relay.GetProperty("aeTitle").GetString()!,
            relay.GetProperty("port").GetInt32());
    }
}

internal static class Study
{
    public static async Task<(string StudyUid, long Bytes)> GenerateAsync(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var pixels = new byte[512 * 512 * 2];
        Random.Shared.NextBytes(pixels);
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var ds = new DicomDataset()
                .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100")
                .AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
                .AddOrUpdate(DicomTag.SOPInstanceUID, DicomUid.Generate())
                .AddOrUpdate(DicomTag.StudyInstanceUID, study)
                .AddOrUpdate(DicomTag.SeriesInstanceUID, series)
                .AddOrUpdate(DicomTag.Modality, "CT")
                .AddOrUpdate(DicomTag.PatientName, "RELAYBENCH^SYNTHETIC")
                .AddOrUpdate(DicomTag.PatientID, "RB-" + study[^10..])
                .AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(CultureInfo.InvariantCulture))
                .AddOrUpdate(DicomTag.Rows, (ushort)512)
                .AddOrUpdate(DicomTag.Columns, (ushort)512)
                .AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1)
                .AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2")
                .AddOrUpdate(DicomTag.BitsAllocated, (ushort)16)
                .AddOrUpdate(DicomTag.BitsStored, (ushort)16)
                .AddOrUpdate(DicomTag.HighBit, (ushort)15)
                .AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
            pixels[i] ^= 0xA5;
            ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels.ToArray());
            var path = Path.Combine(directory, $"{i:D5}.dcm");
            await new DicomFile(ds).SaveAsync(path);
            total += new FileInfo(path).Length;
        }

        return (study, total);
    }
}

internal static class Tools
{
    public static async Task RunAsync(string tool, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.Environment["TCP_NODELAY"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var errors = (await stderr).Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("F:", StringComparison.Ordinal)).ToList();
        if (process.ExitCode != 0 || errors.Count > 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {string.Join(" | ", errors.Take(3))}");
        }
    }
}

internal static class Baseline
{
    /// <summary>getscu the study into a folder, then upload every file with the Azure SDK (8 in parallel).</summary>
    public static async Task<TimeSpan> RunAsync(Stack stack, string studyUid, string folder)
    {
        Directory.CreateDirectory(folder);
        var container = new BlobContainerClient(stack.Storage, "bench-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync();
        var sw = Stopwatch.StartNew();
        await Tools.RunAsync("getscu", ["-aet", "GETSCU", "-aec", stack.PacsAe, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + studyUid, "-od", folder, stack.PacsHost, stack.PacsPort.ToString(CultureInfo.InvariantCulture)]);
        await Parallel.ForEachAsync(Directory.EnumerateFiles(folder), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (file, ct) =>
        {
            await using var stream = File.OpenRead(file);
            await container.GetBlobClient("study/" + Path.GetFileName(file)).UploadAsync(stream, ct);
        });
        sw.Stop();
        await container.DeleteAsync();
        return sw.Elapsed;
    }
}

internal static class RelayRun
{
    /// <summary>Starts si-relay in its own process, sends one RetrieveStudy, times it to the RetrievalCompleted event; returns the relay's peak RSS.</summary>
    public static async Task<(IReadOnlyList<TimeSpan> Elapsed, long PeakBytes)> RunAsync(Stack stack, string studyUid, string method, int instances, int rounds, string spool)
    {
        var site = "bench" + Guid.NewGuid().ToString("N")[..10];
        var eventsQueue = "bench-events-" + Guid.NewGuid().ToString("N")[..12];
        var channel = new MessageChannel(
            new StorageQueueTransport(stack.Storage),
            new BlobMessageBodyStore(new BlobContainerClient(stack.Storage, ResourceNames.MessageBodiesContainer)) { CreateContainerIfMissing = true },
            new MessageChannelOptions { CreateQueuesIfMissing = true, MinPollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(50) });
        var env = new Dictionary<string, string>
        {
            ["Relay__SiteId"] = site,
            ["Relay__Channel__ConnectionString"] = stack.Storage,
            ["Relay__Channel__CreateIfMissing"] = "true",
            ["Relay__Channel__EventsQueue"] = eventsQueue,
            // Measure the retrieval, not idle polling: a relay waiting for work polls at most every second by default.
            ["Relay__Channel__MaxPollIntervalMilliseconds"] = "50",
            ["Relay__UploadConcurrency"] = Environment.GetEnvironmentVariable("RELAYBENCH_UPLOADS") ?? "8",
            ["Relay__Pacs__AeTitle"] = stack.PacsAe,
            ["Relay__Pacs__Host"] = stack.PacsHost,
            ["Relay__Pacs__Port"] = stack.PacsPort.ToString(CultureInfo.InvariantCulture),
            ["Relay__Pacs__CallingAeTitle"] = stack.RelayAe,
            ["Relay__Pacs__RetrieveMethod"] = method,
            ["Relay__Scp__AeTitle"] = stack.RelayAe,
            ["Relay__Scp__Port"] = stack.RelayPort.ToString(CultureInfo.InvariantCulture),
            ["Relay__Scp__BindAddress"] = "127.0.0.1",
            ["Relay__Spool__Directory"] = spool,
            ["Relay__HeartbeatSeconds"] = "3600",
            ["Logging__LogLevel__Default"] = Environment.GetEnvironmentVariable("RELAYBENCH_VERBOSE") is null ? "Warning" : "Information",
            ["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
            ["TCP_NODELAY"] = "1",
        };
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "si-relay.dll")]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }

        using var relay = Process.Start(start)!;
        relay.OutputDataReceived += (_, e) => { if (e.Data is { } line && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || Environment.GetEnvironmentVariable("RELAYBENCH_VERBOSE") is not null)) Console.Error.WriteLine("  relay: " + line); };
        relay.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine("  relay: " + line); };
        relay.BeginOutputReadLine();
        relay.BeginErrorReadLine();
        try
        {
            // Warm up: the relay answers an Echo, so it is listening and its poll interval is at its shortest.
            await Send(channel, site, new EchoCommand());
            await WaitForAsync(channel, eventsQueue, e => e.Body is EchoResult, TimeSpan.FromSeconds(60));

            var times = new List<TimeSpan>();
            for (var round = 0; round < rounds; round++)
            {
                var staging = new BlobContainerClient(stack.Storage, "bench-" + Guid.NewGuid().ToString("N")[..12]);
                await staging.CreateAsync();
                var sas = staging.GenerateSasUri(BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write, DateTimeOffset.UtcNow.AddHours(1));
                var command = new RetrieveStudyCommand(studyUid, [], new StagingDestination(staging.Name, "reg-bench/study"), new StagingCredential(sas, DateTimeOffset.UtcNow.AddHours(1)));
                var sw = Stopwatch.StartNew();
                if (Environment.GetEnvironmentVariable("RELAYBENCH_VERBOSE") is not null) Console.Error.WriteLine($"  bench: send at {DateTime.Now:HH:mm:ss.fff}");
                var id = await Send(channel, site, command);
                var answer = await WaitForAsync(channel, eventsQueue, e => e.CausationId == id && e.Body is RetrievalCompleted or CommandFailed, TimeSpan.FromMinutes(5));
                sw.Stop();
                if (Environment.GetEnvironmentVariable("RELAYBENCH_VERBOSE") is not null) Console.Error.WriteLine($"  bench: answer at {DateTime.Now:HH:mm:ss.fff}");
                if (answer.Body is not RetrievalCompleted { Manifest.Count: var n } || n != instances)
                {
                    throw new InvalidOperationException($"Relay {method} did not complete: {answer.Body}");
                }

                times.Add(sw.Elapsed);
                await staging.DeleteAsync();
            }

            return (times, PeakRss(relay.Id));
        }
        finally
        {
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync();
        }
    }

    private static async Task<string> Send(MessageChannel channel, string site, RelayCommand body)
    {
        var id = "bench-" + Guid.NewGuid().ToString("N");
        await channel.SendAsync(ResourceNames.CommandQueueFor(site), new MessageEnvelope(id, "bench", null, site, DateTimeOffset.UtcNow, 1, body), CancellationToken.None);
        return id;
    }

    private static async Task<MessageEnvelope> WaitForAsync(MessageChannel channel, string queue, Func<MessageEnvelope, bool> match, TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        await foreach (var message in channel.ListenAsync(queue, cts.Token))
        {
            await channel.CompleteAsync(message, CancellationToken.None);
            if (match(message.Envelope))
            {
                return message.Envelope;
            }
        }

        throw new TimeoutException("No answer from the relay within " + deadline);
    }

    private static long PeakRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
