using System.Diagnostics;

namespace ServerlessImaging.LocalRun.Processes;

/// <summary>Runs a repository script to completion with its output appended to a log file.</summary>
internal static class ScriptRunner
{
    /// <summary>Runs <paramref name="script"/> and returns its exit code; output goes to <paramref name="logFile"/>.</summary>
    public static async Task<int> RunAsync(string script, IReadOnlyList<string> arguments, string workingDirectory, string logFile, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };

        // The shell redirects to the log itself, so a slow reader here can never hold the script back.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$SI_RUN_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SI_RUN_LOG"] = logFile;
        start.Environment["TCP_NODELAY"] = "1";
        using var process = Process.Start(start) ?? throw new LocalRunException($"could not start {script}");
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode;
    }

    /// <summary>The last <paramref name="lines"/> non-empty lines of a log, to point the operator at the cause.</summary>
    public static string Tail(string logFile, int lines = 1)
    {
        if (!File.Exists(logFile))
        {
            return string.Empty;
        }

        var tail = File.ReadLines(logFile).Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(lines);
        return string.Join(" | ", tail).Trim();
    }
}
