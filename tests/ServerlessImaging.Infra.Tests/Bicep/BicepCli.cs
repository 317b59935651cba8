using System.Diagnostics;
using System.Reflection;

namespace ServerlessImaging.Infra.Tests.Bicep;

/// <summary>Outcome of one Bicep CLI invocation.</summary>
public sealed record BicepResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, for assertion messages and diagnostics scans.</summary>
    public string Output => (StandardOutput + Environment.NewLine + StandardError).Trim();
}

/// <summary>
/// Runs the Bicep CLI restored by the project's PackageDownload (pinned version, offline:
/// the templates use no registry modules and no extensions that would need type downloads).
/// </summary>
public static class BicepCli
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    /// <summary>Absolute path of the bicep executable inside the NuGet package cache.</summary>
    public static string ExecutablePath { get; } = ResolveExecutable();

    public static async Task<BicepResult> RunAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry, no colour codes in the captured output.
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        start.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        using var timeout = new CancellationTokenSource(Deadline);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Deadline}.");
        }

        return new BicepResult(process.ExitCode, await stdout, await stderr);
    }

    private static string ResolveExecutable()
    {
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BicepPath").Value
            ?? throw new InvalidOperationException("BicepPath metadata is missing.");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The Bicep CLI was not restored; run 'dotnet restore' on the Infra.Tests project.", path);
        }

        // NuGet extraction does not always keep the executable bit.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | execute);
            }
        }

        return path;
    }
}
