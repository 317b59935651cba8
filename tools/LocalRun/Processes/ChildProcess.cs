using System.Diagnostics;

namespace ServerlessImaging.LocalRun.Processes;

/// <summary>
/// A long-running child (the app, a relay) in its own session (setsid), writing straight to its log file, so it
/// survives this program when the run is kept running and can be stopped as a group by its PID.
/// </summary>
internal sealed class ChildProcess
{
    private ChildProcess(string name, int pid, string logFile)
    {
        Name = name;
        Pid = pid;
        LogFile = logFile;
    }

    public string Name { get; }

    public int Pid { get; }

    public string LogFile { get; }

    public bool HasExited => !ProcessGroups.IsAlive(Pid);

    /// <summary>Starts <c>dotnet <paramref name="assembly"/></c> with <paramref name="environment"/> added.</summary>
    /// <param name="appendLog">Keep what an earlier start of the same child wrote to its log (a restart).</param>
    public static ChildProcess StartDotnet(string name, string assembly, IReadOnlyDictionary<string, string> environment, string workingDirectory, string logDirectory, bool appendLog = false)
    {
        if (!File.Exists(assembly))
        {
            throw new LocalRunException($"{assembly} is missing: build it first (tools/run-local builds it)");
        }

        return Start(name, "dotnet", [assembly], environment, workingDirectory, logDirectory, appendLog);
    }

    /// <summary>Starts <paramref name="executable"/> (looked up on PATH) with <paramref name="arguments"/> and <paramref name="environment"/> added.</summary>
    public static ChildProcess Start(string name, string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, string logDirectory, bool appendLog = false)
    {
        Directory.CreateDirectory(logDirectory);
        var logFile = Path.Combine(logDirectory, name + ".log");
        if (!appendLog || !File.Exists(logFile))
        {
            File.WriteAllText(logFile, string.Empty);
        }

        var start = new ProcessStartInfo("setsid") { WorkingDirectory = workingDirectory, UseShellExecute = false };

        // setsid and sh both exec, so the PID we get is the process itself, the leader of its own group.
        start.ArgumentList.Add("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$SI_RUN_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SI_RUN_LOG"] = logFile;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new LocalRunException($"could not start {name}");
        return new ChildProcess(name, process.Id, logFile);
    }

    /// <summary>A child recorded by an earlier run (for --stop).</summary>
    public static ChildProcess Recorded(string name, int pid, string logFile) => new(name, pid, logFile);
}
