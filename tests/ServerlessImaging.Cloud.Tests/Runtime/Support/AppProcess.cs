using System.Diagnostics;
using System.Text;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>
/// The cloud app as a separate process (standalone mode, the real Program.cs), so a test can let it die at an
/// injected fault point (<c>SI_FAULT</c>) and start it again. Output is captured for assertions.
/// </summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static AppProcess Start(string repositoryRoot, RuntimeSettings settings, string? fault, IReadOnlyList<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppDirectory(repositoryRoot),
        };
        info.ArgumentList.Add(Path.Combine(info.WorkingDirectory, "ServerlessImaging.StandaloneHost.dll"));
        foreach (var argument in arguments ?? [])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in settings.ToEnvironment())
        {
            info.Environment[key] = value;
        }

        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment.Remove(FaultInjection.Variable);
        if (fault is not null)
        {
            info.Environment[FaultInjection.Variable] = fault;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new AppProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start."));
    }

    /// <summary>Waits for the process to exit by itself (an injected crash).</summary>
    public async Task WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("The app did not exit within the deadline. Output:\n" + Output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    // The app's own build output: tests/<this>/bin/<Configuration>/<tfm>/ -> functions/ServerlessImaging.StandaloneHost/bin/<Configuration>/<tfm>/.
    private static string AppDirectory(string repositoryRoot)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent!.Name;
        var directory = Path.Combine(repositoryRoot, "functions", "ServerlessImaging.StandaloneHost", "bin", configuration, tfm.Name);
        return File.Exists(Path.Combine(directory, "ServerlessImaging.StandaloneHost.dll"))
            ? directory
            : throw new FileNotFoundException("Build the standalone host first; not found in " + directory);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
