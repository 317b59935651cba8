using Xunit;
using System.Diagnostics;

namespace ServerlessImaging.Testing.Stack;

/// <summary>
/// Brings the local stack up once per test process (reusing one that already answers)
/// and exposes its endpoints. Never stops it: CI's script and developers do that.
/// Use as a collection fixture; xunit only discovers collection definitions in the test
/// assembly itself, so each test project declares
/// <c>[CollectionDefinition(LocalStackFixture.CollectionName)] public sealed class LocalStackDefinition : ICollectionFixture&lt;LocalStackFixture&gt;;</c>
/// (or uses <c>IClassFixture&lt;LocalStackFixture&gt;</c>; the start is shared either way).
/// </summary>
public sealed class LocalStackFixture : IAsyncLifetime
{
    public const string CollectionName = "local stack";

    /// <summary>Generous: a cold machine may have to apt-get and npm ci first.</summary>
    private static readonly TimeSpan StackUpDeadline = TimeSpan.FromMinutes(10);

    private static readonly SemaphoreSlim StartGate = new(1, 1);
    private static StackEndpoints? started;

    private StackEndpoints? endpoints;

    public string RepositoryRootPath { get; } = Stack.RepositoryRoot.Find();

    public StackEndpoints Endpoints =>
        endpoints ?? throw new InvalidOperationException("The local stack fixture has not been initialised yet.");

    public async Task InitializeAsync()
    {
        using var deadline = new CancellationTokenSource(StackUpDeadline);
        endpoints = await StartOnceAsync(RepositoryRootPath, deadline.Token);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<StackEndpoints> StartOnceAsync(string repositoryRoot, CancellationToken cancellationToken)
    {
        await StartGate.WaitAsync(cancellationToken);
        try
        {
            if (started is not null)
            {
                return started;
            }

            await RunStackUpAsync(repositoryRoot, cancellationToken);
            started = await StackEndpoints.LoadAsync(Path.Combine(repositoryRoot, ".local", "stack", "stack.json"), cancellationToken);
            return started;
        }
        finally
        {
            StartGate.Release();
        }
    }

    private static async Task RunStackUpAsync(string repositoryRoot, CancellationToken cancellationToken)
    {
        var script = Path.Combine(repositoryRoot, "tools", "stack");
        var startInfo = new ProcessStartInfo("bash")
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(script);
        startInfo.ArgumentList.Add("up");

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {script}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Leave the services it already started; only stop the script itself.
            process.Kill(entireProcessTree: false);
            throw new TimeoutException($"tools/stack up did not finish within {StackUpDeadline}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"tools/stack up failed with exit code {process.ExitCode}:{Environment.NewLine}{await stderr}{await stdout}");
        }
    }
}
