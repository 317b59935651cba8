using System.Globalization;

namespace ServerlessImaging.EndToEndBench.Memory;

/// <summary>A process whose memory is watched, by display name.</summary>
internal sealed record WatchedProcess(string Name, int Pid);

/// <summary>
/// Peak resident memory of child processes over one phase: resets each kernel high-water mark (VmHWM) at the start
/// (writing 5 to /proc/PID/clear_refs), samples VmRSS meanwhile, and reports the larger of the two at the end, so a
/// phase's peak is not the previous phase's (or start-up's). Where the reset is refused, the sampled peak is used.
/// Also the sampled peak of anonymous resident memory (<c>RssAnon</c>: the heaps, managed and native, without the
/// pages of mapped files such as the ReadyToRun code of the assemblies): what a study's size could make grow.
/// </summary>
internal sealed class PeakMemory : IAsyncDisposable
{
    private readonly IReadOnlyList<WatchedProcess> processes;
    private readonly Dictionary<string, long> sampled = [];
    private readonly Dictionary<string, long> anonymous = [];
    private readonly HashSet<int> highWaterMarkReset = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampler;

    private PeakMemory(IReadOnlyList<WatchedProcess> processes, TimeSpan interval)
    {
        this.processes = processes;
        foreach (var process in processes)
        {
            if (ResetHighWaterMark(process.Pid))
            {
                highWaterMarkReset.Add(process.Pid);
            }

            sampled[process.Name] = 0;
            anonymous[process.Name] = 0;
        }

        sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Sample("VmRSS:");
                Sample("RssAnon:", into: anonymous);
                try
                {
                    await Task.Delay(interval, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public static PeakMemory Start(IReadOnlyList<WatchedProcess> processes, TimeSpan interval) => new(processes, interval);

    /// <summary>Peak resident bytes per process name since <see cref="Start"/>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> StopAsync()
    {
        await stop.CancelAsync();
        await sampler;
        Sample("VmHWM:", p => highWaterMarkReset.Contains(p.Pid));
        Sample("VmRSS:");
        Sample("RssAnon:", into: anonymous);
        return new Dictionary<string, long>(sampled);
    }

    /// <summary>Peak anonymous resident bytes per process name (sampled), once <see cref="StopAsync"/> returned.</summary>
    public IReadOnlyDictionary<string, long> AnonymousPeaks => new Dictionary<string, long>(anonymous);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await sampler;
        stop.Dispose();
    }

    /// <summary>The value of a <c>/proc/PID/status</c> field given in kB, in bytes; null when absent.</summary>
    public static long? ReadStatusField(string statusText, string field)
    {
        ArgumentNullException.ThrowIfNull(statusText);
        foreach (var line in statusText.Split('\n'))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes))
            {
                return kilobytes * 1024;
            }
        }

        return null;
    }

    private void Sample(string field, Func<WatchedProcess, bool>? which = null, Dictionary<string, long>? into = null)
    {
        var peaks = into ?? sampled;
        foreach (var process in processes.Where(which ?? (_ => true)))
        {
            string text;
            try
            {
                text = File.ReadAllText($"/proc/{process.Pid}/status");
            }
            catch (IOException)
            {
                continue; // exited; its last sample stands
            }

            if (ReadStatusField(text, field) is { } bytes)
            {
                lock (peaks)
                {
                    peaks[process.Name] = Math.Max(peaks[process.Name], bytes);
                }
            }
        }
    }

    private static bool ResetHighWaterMark(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No permission (or gone): the VmRSS samples alone give the peak.
            return false;
        }
    }
}
