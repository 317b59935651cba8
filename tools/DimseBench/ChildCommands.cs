using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;

namespace ServerlessImaging.DimseBench;

/// <summary>What the child processes do: generate a study, or run one of our transfers and print "elapsedTicks peakBytes".</summary>
internal static class ChildCommands
{
    public static async Task<int> GenerateAsync(string directory, int count)
    {
        var study = await StudyGenerator.GenerateAsync(directory, count);
        Console.WriteLine(study);
        return 0;
    }

    public static async Task<int> RunOursAsync(string phase, string json)
    {
        var a = JsonSerializer.Deserialize<OursArgs>(json)!;
        var sw = Stopwatch.StartNew();
        switch (phase)
        {
            case "store":
                var r = await ClientFor(a).StoreAsync(a.Files!);
                Require(r.All(x => x.Succeeded), "our C-STORE had failures");
                break;
            case "get":
                var (level, keys) = DicomClient.RetrieveKeys(a.StudyUid);
                var g = await ClientFor(a).GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(a.Directory!));
                Require(g.Received.Count == a.Expected, $"our C-GET received {g.Received.Count}/{a.Expected}");
                break;
            case "get-null": // diagnostics: same transfer into a sink that discards, to separate network from file costs
                var (nl, nk) = DicomClient.RetrieveKeys(a.StudyUid);
                var ng = await ClientFor(a).GetAsync(QueryModel.StudyRoot, nl, nk, new DiscardingSink());
                Require(ng.Received.Count == a.Expected, $"our C-GET received {ng.Received.Count}/{a.Expected}");
                break;
            case "move":
                await using (DicomServer.Start(new DicomServerOptions { AeTitle = a.CallingAe, Port = a.ScpPort }, new DirectoryInstanceSink(a.Directory!)))
                {
                    sw.Restart();
                    await MoveAsync(a);
                }
                break;
            default:
                throw new ArgumentException("unknown phase " + phase);
        }
        sw.Stop();
        if (Environment.GetEnvironmentVariable("DIMSEBENCH_GCINFO") == "1")
        {
            // Diagnostics only: managed allocation vs resident set split, to tell GC garbage from native memory.
            var gc = string.Create(CultureInfo.InvariantCulture, $"allocated {GC.GetTotalAllocatedBytes(true) / 1e6:0.0} MB, gen0 GCs {GC.CollectionCount(0)}; ");
            var rss = string.Join(" ", File.ReadLines("/proc/self/status").Where(l => l.StartsWith("Rss", StringComparison.Ordinal) || l.StartsWith("Threads", StringComparison.Ordinal) || l.StartsWith("VmHWM", StringComparison.Ordinal)));
            await Console.Error.WriteLineAsync(gc + rss);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sw.Elapsed.Ticks} {Measure.HighWaterMark(Environment.ProcessId)}"));
        return 0;
    }

    public static async Task MoveAsync(OursArgs a)
    {
        var (level, keys) = DicomClient.RetrieveKeys(a.StudyUid);
        var m = await ClientFor(a).MoveAsync(QueryModel.StudyRoot, level, keys, a.CallingAe);
        Require(m.Progress.Completed == a.Expected, $"move completed {m.Progress.Completed}/{a.Expected}");
    }

    private static DicomClient ClientFor(OursArgs a) =>
        new(new DicomClientOptions { Host = a.Host, Port = a.Port, CallingAeTitle = a.CallingAe, CalledAeTitle = a.CalledAe });

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}

/// <summary>Diagnostics sink: accepts and drops every instance.</summary>
internal sealed class DiscardingSink : IInstanceSink
{
    public ValueTask<IInstanceWriter> OpenAsync(IncomingInstance instance, CancellationToken ct) => ValueTask.FromResult<IInstanceWriter>(new Writer(instance));

    private sealed class Writer(IncomingInstance instance) : IInstanceWriter
    {
        private long _bytes;
        public ValueTask WriteAsync(System.Buffers.ReadOnlySequence<byte> dataSetBytes, CancellationToken ct)
        {
            _bytes += dataSetBytes.Length;
            return ValueTask.CompletedTask;
        }
        public ValueTask<StoredInstance> CommitAsync(CancellationToken ct) => ValueTask.FromResult(new StoredInstance(instance, "", _bytes));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
