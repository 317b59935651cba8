using System.Globalization;

namespace ServerlessImaging.EndToEndBench.Memory;

/// <summary>
/// CPU time (user + system, from /proc/PID/stat) the watched processes spent between two snapshots: where a part's work
/// goes on a machine whose cores every process shares, which wall-clock times alone cannot tell under load.
/// </summary>
internal static class CpuTime
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux.

    /// <summary>Each process's CPU seconds so far (a process gone or unreadable is left out).</summary>
    public static IReadOnlyDictionary<string, double> Snapshot(IReadOnlyList<WatchedProcess> processes)
    {
        ArgumentNullException.ThrowIfNull(processes);
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var process in processes)
        {
            if (Read(process.Pid) is { } cpu)
            {
                seconds[process.Name] = cpu;
            }
        }

        return seconds;
    }

    /// <summary>CPU seconds spent per process from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static IReadOnlyDictionary<string, double> Spent(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after) =>
        after.Where(a => before.ContainsKey(a.Key)).ToDictionary(a => a.Key, a => a.Value - before[a.Key], StringComparer.Ordinal);

    /// <summary>The local stand-ins' processes, from the pid files <c>tools/stack</c> writes (<c>.local/stack/pids/NAME.pid</c>).</summary>
    public static IReadOnlyList<WatchedProcess> StackServices(string pidDirectory)
    {
        if (!Directory.Exists(pidDirectory))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(pidDirectory, "*.pid")
            .Select(file => (Name: Path.GetFileNameWithoutExtension(file), Text: File.ReadAllText(file).Trim()))
            .Where(p => int.TryParse(p.Text, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(p => new WatchedProcess(p.Name, int.Parse(p.Text, CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// CPU seconds the whole machine has spent busy so far, all cores together (<c>/proc/stat</c>: everything but idle and
    /// I/O wait), or null where there is no such file: what a side of a transfer round cost, whoever did the work.
    /// </summary>
    public static double? MachineBusySeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var ticks = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = ticks[3] + (ticks.Length > 4 ? ticks[4] : 0);
            return (ticks.Take(8).Sum() - idle) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends the command name.
    private static double? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
