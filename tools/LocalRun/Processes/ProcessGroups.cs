using System.Diagnostics;

namespace ServerlessImaging.LocalRun.Processes;

/// <summary>Signals process groups through kill(1): .NET has no portable process-group API.</summary>
internal static class ProcessGroups
{
    public static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && !IsZombie(pid);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>TERM each group, wait up to <paramref name="grace"/>, then KILL what is left.</summary>
    public static async Task StopAsync(IReadOnlyCollection<int> pids, TimeSpan grace)
    {
        foreach (var pid in pids)
        {
            await SignalAsync("-TERM", pid);
        }

        var deadline = DateTime.UtcNow + grace;
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        foreach (var pid in pids.Where(IsAlive))
        {
            await SignalAsync("-KILL", pid);
        }
    }

    /// <summary>SIGKILL to the group (no shutdown, no cleanup: a crash), then waits until the leader is gone.</summary>
    public static async Task KillAsync(int pid)
    {
        await SignalAsync("-KILL", pid);
        while (IsAlive(pid))
        {
            await Task.Delay(20);
        }
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        // The group first (the child is its session leader); the PID alone if the group is gone.
        if (await KillAsync(signal, "-" + pid) != 0)
        {
            await KillAsync(signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static async Task<int> KillAsync(string signal, string target)
    {
        var start = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add(signal);
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(target);
        using var process = Process.Start(start)!;
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat[(stat.LastIndexOf(')') + 2)..];
            return afterName.StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
