using System.Globalization;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>
/// An Azurite of one test (the npm package tools/stack installs under .local/node) on free ports with its own data
/// folder, so a test can stop and restart Storage under the app and a relay without touching the shared one.
/// </summary>
internal sealed class PrivateAzurite : IAsyncDisposable
{
    private readonly string executable;
    private readonly string directory;
    private readonly int blobPort = AppAndRelays.FreeLoopbackPort();
    private readonly int queuePort = AppAndRelays.FreeLoopbackPort();
    private readonly int tablePort = AppAndRelays.FreeLoopbackPort();
    private readonly StorageEndpoints shared;
    private ChildProcess? process;

    public PrivateAzurite(LocalStackFixture stack, string directory)
    {
        shared = stack.Endpoints.Storage;
        this.directory = directory;
        var nodeDirectory = Environment.GetEnvironmentVariable("SI_STACK_NODE_DIR") is { Length: > 0 } custom ? custom : Path.Combine(stack.RepositoryRootPath, ".local", "node");
        executable = Path.Combine(nodeDirectory, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException($"{executable} is missing: tools/stack install puts Azurite there.");
        }
    }

    /// <summary>Same account and key as the shared Azurite (the development ones), other ports.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture,
        $"DefaultEndpointsProtocol=http;AccountName={shared.AccountName};AccountKey={shared.AccountKey};BlobEndpoint=http://127.0.0.1:{blobPort}/{shared.AccountName};QueueEndpoint=http://127.0.0.1:{queuePort}/{shared.AccountName};TableEndpoint=http://127.0.0.1:{tablePort}/{shared.AccountName};");

    /// <summary>Starts Azurite (again, with the same data folder and ports) and waits until its blob endpoint answers.</summary>
    public async Task StartAsync()
    {
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        process = ChildProcess.Start("azurite", executable,
        [
            "--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry", "--location", Path.Combine(directory, "data"),
            "--blobHost", "127.0.0.1", "--blobPort", blobPort.ToString(CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", queuePort.ToString(CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", tablePort.ToString(CultureInfo.InvariantCulture),
        ], new Dictionary<string, string>(), directory, directory, appendLog: true);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Waiting.UntilAsync("the private Azurite", TimeSpan.FromSeconds(30), async ct =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("Azurite exited: " + ScriptRunner.Tail(process.LogFile, 5));
            }

            try
            {
                // Any HTTP answer (even 403 to an unsigned request) means it listens.
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{blobPort}/{shared.AccountName}?comp=list"), ct);
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, CancellationToken.None, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>A graceful stop (TERM, as a service restart does): Azurite writes its metadata and closes its ports.</summary>
    public Task StopAsync() => process is null ? Task.CompletedTask : ProcessGroups.StopAsync([process.Pid], TimeSpan.FromSeconds(15));

    public async ValueTask DisposeAsync() => await StopAsync();
}
