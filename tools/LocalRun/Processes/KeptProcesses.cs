using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace ServerlessImaging.LocalRun.Processes;

/// <summary>
/// What a --keep-running run leaves behind: one PID file per child under .local/run/pids, a watchdog that stops the
/// children once the stack is taken down (tools/stack down only knows its own services), and <c>--stop</c>.
/// </summary>
internal static class KeptProcesses
{
    public static void Record(RepositoryPaths paths, IReadOnlyList<ChildProcess> children, bool stackStartedByRun)
    {
        Directory.CreateDirectory(paths.PidDirectory);
        foreach (var child in children)
        {
            File.WriteAllText(Path.Combine(paths.PidDirectory, child.Name + ".pid"), child.Pid.ToString(CultureInfo.InvariantCulture));
        }

        File.WriteAllText(Path.Combine(paths.PidDirectory, "stack-started-by-run"), stackStartedByRun ? "yes" : "no");
        StartWatchdog(paths, children);
    }

    /// <summary>Stops the recorded children, and the stack when that run had started it.</summary>
    public static async Task<int> StopAsync(RepositoryPaths paths, CancellationToken cancellationToken)
    {
        var pids = new List<int>();
        if (Directory.Exists(paths.PidDirectory))
        {
            foreach (var file in Directory.GetFiles(paths.PidDirectory, "*.pid"))
            {
                if (int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ProcessGroups.IsAlive(pid))
                {
                    pids.Add(pid);
                }

                File.Delete(file);
            }
        }

        await ProcessGroups.StopAsync(pids, TimeSpan.FromSeconds(10));
        AnsiConsole.MarkupLine($"run-local --stop: stopped {pids.Count} process(es) (app, relays, watchdog)");
        var marker = Path.Combine(paths.PidDirectory, "stack-started-by-run");
        var stackStartedByRun = File.Exists(marker) && File.ReadAllText(marker).Trim() == "yes";
        File.Delete(marker);
        if (stackStartedByRun)
        {
            var code = await ScriptRunner.RunAsync(paths.StackScript, ["down"], paths.Root, Path.Combine(paths.LogDirectory, "stack.log"), cancellationToken);
            AnsiConsole.MarkupLine(code == 0 ? "run-local --stop: local stack stopped" : "[red]run-local --stop: tools/stack down failed (see .local/run/logs/stack.log)[/]");
            return code == 0 ? 0 : 1;
        }

        return 0;
    }

    private static void StartWatchdog(RepositoryPaths paths, IReadOnlyList<ChildProcess> children)
    {
        var azuritePidFile = Path.Combine(paths.StackPidDirectory, "azurite-queue.pid");
        if (!File.Exists(azuritePidFile))
        {
            return;
        }

        var stackPid = File.ReadAllText(azuritePidFile).Trim();
        var childPids = string.Join(' ', children.Select(c => c.Pid.ToString(CultureInfo.InvariantCulture)));

        // Polls once a second: when Azurite (recorded by tools/stack up) is gone, the stack was taken down, so the
        // app and relays (useless without it) are stopped too. Ends by itself when they are all gone.
        var script = $$"""
            while kill -0 {{stackPid}} 2>/dev/null; do
              alive=0; for p in {{childPids}}; do kill -0 "$p" 2>/dev/null && alive=1; done
              [ "$alive" = 1 ] || exit 0
              sleep 1
            done
            for p in {{childPids}}; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
            sleep 5
            for p in {{childPids}}; do kill -KILL -- "-$p" 2>/dev/null; done
            exit 0
            """;
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, WorkingDirectory = "/" };
        start.ArgumentList.Add("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec >/dev/null 2>&1 </dev/null; " + script);
        using var watchdog = Process.Start(start)!;
        File.WriteAllText(Path.Combine(paths.PidDirectory, "watchdog.pid"), watchdog.Id.ToString(CultureInfo.InvariantCulture));
    }
}
