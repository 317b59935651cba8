using System.Globalization;
using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.Testing.Http;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>What a rig changes from the defaults.</summary>
internal sealed class RigOptions
{
    /// <summary>Storage for the app and the relays (a private Azurite); default: the shared stack's.</summary>
    public string? StorageConnectionString { get; init; }

    /// <summary>Relays post to a queue of their own that the test forwards to the app (see <see cref="EventTap"/>).</summary>
    public bool TapRelayEvents { get; init; }

    /// <summary>Start the relays with the app (false: the test starts them when it wants).</summary>
    public bool StartRelays { get; init; } = true;

    /// <summary>Settings added to the app's (e.g. a shorter retry interval for unreachable sites).</summary>
    public Dictionary<string, string> AppSettings { get; init; } = [];
}

/// <summary>
/// The cloud app (standalone) and one relay per site as separate processes — started, killed with SIGKILL and started
/// again with the same settings — isolated from every other test: run-unique site ids (command and poison queues), its
/// own events queue and Cosmos database. Processes are launched by run-local's <see cref="ChildProcess"/> (setsid
/// groups, logs under .local/fault-suite/logs/&lt;rig&gt;/) and the API is driven by run-local's <see cref="ApiSession"/>.
/// </summary>
internal sealed class FaultRig : IAsyncDisposable
{
    private readonly string root;
    private readonly ServerlessImaging.LocalRun.StackEndpoints stack;
    private readonly Dictionary<string, string> appEnvironment;
    private readonly Dictionary<string, ChildProcess> processes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> relayEnvironments = new(StringComparer.Ordinal);

    private FaultRig(LocalStackFixture fixture, string name, IReadOnlyList<RigSite> sites, RigOptions options)
    {
        root = fixture.RepositoryRootPath;
        Endpoints = fixture.Endpoints;
        var shared = ServerlessImaging.LocalRun.StackEndpoints.Load(Path.Combine(root, ".local", "stack", "stack.json"));
        stack = options.StorageConnectionString is { } storage ? shared with { StorageConnectionString = storage } : shared;
        Sites = sites;
        LogDirectory = Path.Combine(root, ".local", "fault-suite", "logs", name + "-" + UniqueNames.PatientSuffix(4).ToLowerInvariant());
        DatabaseName = UniqueNames.CosmosDatabase("fault");
        EventsQueuePrefix = UniqueNames.QueuePrefix("fault-ev");
        TapQueue = options.TapRelayEvents ? UniqueNames.Queue("fault-tap") : null;
        ApiUrl = new Uri($"http://127.0.0.1:{AppAndRelays.FreeLoopbackPort()}/");

        appEnvironment = AppAndRelays.AppEnvironment(stack, ApiUrl, sites.Select(s => s.SiteId));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Cosmos__DatabaseName"] = DatabaseName,
            ["Orchestration__EventsQueuePrefix"] = EventsQueuePrefix,
            ["DurableTask__MaxQueuePollingInterval"] = "00:00:00.250",
            ["DurableTask__WorkItemVisibilityTimeout"] = "00:00:10",
            ["DurableTask__PartitionCount"] = "2",
            ["Orchestration__EventsVisibilityTimeout"] = "00:00:06",
            ["Orchestration__FindTimeout"] = "00:00:30",
            ["Orchestration__UnreachableRetryInterval"] = "00:00:04",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__ServerlessImaging"] = "Information",
        }.Concat(options.AppSettings))
        {
            appEnvironment[key] = value;
        }

        foreach (var site in sites)
        {
            var spool = Path.Combine(LogDirectory, "spool-" + site.Name);
            Directory.CreateDirectory(spool);
            var environment = site.Plan.Environment(new ServerlessImaging.LocalRun.SitePacs(site.SiteId, site.Pacs.AeTitle, site.Pacs.Host, site.Pacs.Port), stack.StorageConnectionString, spool);
            foreach (var (key, value) in new Dictionary<string, string>
            {
                ["Relay__Channel__EventsQueue"] = TapQueue ?? EventsQueueFor(site.SiteId),
                ["Relay__Channel__VisibilityTimeoutSeconds"] = "10", // the least the relay accepts
                ["Relay__Channel__MaxPollIntervalMilliseconds"] = "200",
                ["Relay__Pacs__ConnectTimeoutSeconds"] = "5",
                ["Relay__Pacs__DimseTimeoutSeconds"] = "20",

                // One heartbeat at start (GET /sites shows the relay online), then quiet: a drained events queue means drained.
                ["Relay__HeartbeatSeconds"] = "3600",

                // The pipelined store (off by default) runs under every fault too: staged instances are listed in
                // progress events and stored while retrievals go on, so duplicates, kills and outages meet it as well.
                ["Relay__StagedReportBatchSize"] = "4",

                // Deliveries (when a test's meeting names a destination this relay allows) read from this rig's app only.
                ["Relay__Delivery__AllowedSources__0"] = new Uri(ApiUrl, "delivery-source/").ToString(),
                ["Relay__ProgressIntervalMilliseconds"] = "200",
                ["Logging__LogLevel__Default"] = "Information",
            }.Concat(site.RelaySettings))
            {
                environment[key] = value;
            }

            relayEnvironments[site.Name] = environment;
        }

        Api = new ApiSession(ApiUrl, Path.Combine(root, ".local", "stack", "stack.json"));
    }

    /// <summary>The shared stack (DICOM service, Cosmos DB, site PACS).</summary>
    public ServerlessImaging.Testing.Stack.StackEndpoints Endpoints { get; }

    public IReadOnlyList<RigSite> Sites { get; }

    public string StorageConnectionString => stack.StorageConnectionString;

    public string LogDirectory { get; }

    public string DatabaseName { get; }

    /// <summary>Prefix of the sites' events queues the app listens to (<c>&lt;prefix&gt;&lt;site&gt;</c>).</summary>
    public string EventsQueuePrefix { get; }

    /// <summary>The queue every relay posts to when the rig taps them (forwarded to each site's events queue), else null.</summary>
    public string? TapQueue { get; }

    /// <summary>The sites' events queues the app listens to.</summary>
    public IEnumerable<string> EventsQueues => Sites.Select(s => EventsQueueFor(s.SiteId));

    /// <summary>The events queue of <paramref name="siteId"/>.</summary>
    public string EventsQueueFor(string siteId) => EventsQueuePrefix + siteId;

    public Uri ApiUrl { get; }

    public ApiSession Api { get; }

    public RigSite Site(string name) => Sites.Single(s => s.Name == name);

    public static async Task<FaultRig> StartAsync(LocalStackFixture fixture, string name, IReadOnlyList<RigSite> sites, RigOptions? options = null)
    {
        options ??= new RigOptions();
        var rig = new FaultRig(fixture, name, sites, options);
        try
        {
            await rig.StartAppAsync();
            if (options.StartRelays)
            {
                foreach (var site in sites)
                {
                    await rig.StartRelayAsync(site);
                }

                await rig.WaitForRelaysOnlineAsync(sites);
            }

            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the app (again: same settings, same port, same database) and waits for /healthz.</summary>
    public async Task StartAppAsync()
    {
        processes["app"] = ChildProcess.StartDotnet("app", BuiltAssemblies.App(root), appEnvironment, root, LogDirectory, appendLog: true);
        await Waiting.UntilAsync("the app's /healthz", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureRunning("app");
            return await Api.IsAliveAsync(ct);
        }, CancellationToken.None);
    }

    /// <summary>SIGKILL of the app's process group: no shutdown, nothing flushed.</summary>
    public Task KillAppAsync() => ProcessGroups.KillAsync(processes["app"].Pid);

    public Task StartRelayAsync(RigSite site)
    {
        processes["relay-" + site.Name] = ChildProcess.StartDotnet("relay-" + site.Name, BuiltAssemblies.Relay(root), relayEnvironments[site.Name], root, LogDirectory, appendLog: true);
        return Task.CompletedTask;
    }

    /// <summary>SIGKILL of a relay's process group.</summary>
    public Task KillRelayAsync(RigSite site) => ProcessGroups.KillAsync(processes["relay-" + site.Name].Pid);

    /// <summary>A graceful stop (TERM): what an operator's restart does; commands in flight come back after their lease.</summary>
    public Task StopRelayAsync(RigSite site) => ProcessGroups.StopAsync([processes["relay-" + site.Name].Pid], TimeSpan.FromSeconds(15));

    /// <summary>Until GET /sites shows each relay online (its first heartbeat reached the app).</summary>
    public Task WaitForRelaysOnlineAsync(IEnumerable<RigSite> sites) =>
        Waiting.UntilAsync("a heartbeat from every relay (GET /sites)", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureAllRunning();
            var health = SiteHealth.FromApi(await Api.SendAsync(HttpMethod.Get, "/sites", "admin", null, HttpStatusCode.OK, ct));
            return sites.All(s => health.Any(h => h.SiteId == s.SiteId && h.Online));
        }, CancellationToken.None);

    /// <summary>Fails with the process's last log line when the app or a relay died without being killed by the test.</summary>
    public void EnsureAllRunning()
    {
        foreach (var name in processes.Keys)
        {
            EnsureRunning(name);
        }
    }

    /// <summary>The whole log of one process (all its starts), to look for a line.</summary>
    public string Log(string process) => File.ReadAllText(Path.Combine(LogDirectory, process + ".log"));

    public async ValueTask DisposeAsync()
    {
        await ProcessGroups.StopAsync([.. processes.Values.Where(p => !p.HasExited).Select(p => p.Pid)], TimeSpan.FromSeconds(10));
        Api.Dispose();
        await DropDatabaseAsync();
    }

    private void EnsureRunning(string name)
    {
        if (processes.TryGetValue(name, out var process) && process.HasExited)
        {
            throw new InvalidOperationException($"{name} exited on its own: {ScriptRunner.Tail(process.LogFile, 5)} (log {process.LogFile})");
        }
    }

    // Best effort, like the API tests: a leftover database only costs memory in the stand-in.
    private async Task DropDatabaseAsync()
    {
        try
        {
            using var cosmos = new CosmosClient(stack.CosmosConnectionString, new CosmosClientOptions
            {
                ConnectionMode = ConnectionMode.Gateway,
                LimitToEndpoint = true,
                HttpClientFactory = () => new HttpClient(LocalCertificates.CreateHandlerTrustingLoopback()),
            });
            using var response = await cosmos.GetDatabase(DatabaseName).DeleteStreamAsync();
        }
        catch (HttpRequestException)
        {
        }
        catch (CosmosException)
        {
        }
    }
}

/// <summary>The app's and the relay's build outputs of this test's configuration (the test project builds them first).</summary>
internal static class BuiltAssemblies
{
    public static string App(string root) => Find(root, "ServerlessImaging.StandaloneHost", "ServerlessImaging.StandaloneHost.dll");

    public static string Relay(string root) => Find(root, "ServerlessImaging.Relay", "si-relay.dll");

    // tests/<this>/bin/<Configuration>/<tfm>/ -> functions/<project>/bin/<Configuration>/<tfm>/.
    private static string Find(string root, string project, string file)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(root, "functions", project, "bin", tfm.Parent!.Name, tfm.Name, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build {project} first.");
    }
}
