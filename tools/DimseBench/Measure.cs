using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace ServerlessImaging.DimseBench;

/// <summary>Times one phase run by a tool in its own process and reads that process's peak resident set (VmHWM).</summary>
internal static class Measure
{
    public sealed record Result(int Instances, long Bytes, TimeSpan Elapsed, long PeakBytes)
    {
        public double InstancesPerSecond => Instances / Elapsed.TotalSeconds;
        public double MegabytesPerSecond => Bytes / 1e6 / Elapsed.TotalSeconds;
        public double PeakMegabytes => PeakBytes / 1e6;
    }

    public static async Task<Result> ToolAsync(long bytes, int instances, string tool, IEnumerable<string> args)
    {
        using var process = Start(tool, args);
        var peak = 0L;
        var sw = Stopwatch.StartNew();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        while (!process.HasExited)
        {
            peak = Math.Max(peak, HighWaterMark(process.Id));
            await Task.Delay(10);
        }
        sw.Stop();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} exited {process.ExitCode}: {await stderr}{await stdout}");
        return new Result(instances, bytes, sw.Elapsed, peak);
    }

    /// <summary>Starts a dcmtk SCP, waits until it listens, runs the trigger, then reads the SCP's memory high-water mark and stops it.</summary>
    public static async Task<Result> ExternalScpAsync(long bytes, int instances, string tool, IEnumerable<string> args, int port, Func<Task> trigger)
    {
        using var process = Start(tool, args);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync("127.0.0.1", port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
            }
            var sw = Stopwatch.StartNew();
            await trigger();
            sw.Stop();
            return new Result(instances, bytes, sw.Elapsed, HighWaterMark(process.Id));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    private static Process Start(string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        return Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start");
    }

    /// <summary>VmHWM (peak resident set) of a live process, in bytes; 0 when it has already exited.</summary>
    public static long HighWaterMark(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return 0;
    }
}
