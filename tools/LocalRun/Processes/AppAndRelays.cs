using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Spectre.Console;

namespace ServerlessImaging.LocalRun.Processes;

/// <summary>
/// The cloud app (standalone) and one relay per local site as child processes configured from the stack, and the
/// checks that they are up. Shared by tools/run-local and tools/EndToEndBench (which adds its own settings).
/// </summary>
internal sealed class AppAndRelays(RepositoryPaths paths, StackEndpoints stack)
{
    private readonly List<ChildProcess> children = [];

    /// <summary>Settings added to, or replacing, the app's defaults (e.g. a Cosmos database of its own).</summary>
    public Dictionary<string, string> AppSettings { get; } = [];

    /// <summary>Settings added to, or replacing, every relay's defaults.</summary>
    public Dictionary<string, string> RelaySettings { get; } = [];

    /// <summary>Appended to every site id (after a hyphen) so a run has command queues of its own; empty: the stack's ids.</summary>
    public string SiteIdSuffix { get; init; } = string.Empty;

    /// <summary>Where the children's logs go.</summary>
    public string LogDirectory { get; init; } = paths.LogDirectory;

    public IReadOnlyList<ChildProcess> Children => children;

    public ChildProcess App => children.FirstOrDefault(c => c.Name == "app") ?? throw new LocalRunException("the app is not started");

    /// <summary>The relay processes, with the plan each runs.</summary>
    public IEnumerable<(SiteRelayPlan Plan, ChildProcess Process)> Relays =>
        SiteRelayPlan.Local.Select(p => (p, children.First(c => c.Name == "relay-" + p.SiteId)));

    /// <summary>The site id the app and the relay use for <paramref name="plan"/>.</summary>
    public string SiteIdOf(SiteRelayPlan plan) => SiteIdSuffix.Length == 0 ? plan.SiteId : plan.SiteId + "-" + SiteIdSuffix;

    /// <summary>Starts the app on a free loopback port and the relays; returns once the app answers /healthz.</summary>
    public async Task<ApiSession> StartAsync(CancellationToken cancellationToken)
    {
        var apiUrl = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}/");
        LocalRunner.Step($"starting the cloud app (standalone) on {apiUrl} and one relay per site");
        var appEnvironment = AppEnvironment(stack, apiUrl, SiteRelayPlan.Local.Select(SiteIdOf));
        foreach (var (key, value) in WebSettings(stack, paths.Root, apiUrl))
        {
            appEnvironment[key] = value;
        }

        foreach (var (key, value) in AppSettings)
        {
            appEnvironment[key] = value;
        }

        children.Add(ChildProcess.StartDotnet("app", paths.AppAssembly, appEnvironment, paths.Root, LogDirectory));

        foreach (var plan in SiteRelayPlan.Local)
        {
            var pacs = stack.Sites.FirstOrDefault(s => s.SiteId == plan.SiteId)
                ?? throw new LocalRunException($"stack.json describes no PACS for site {plan.SiteId}");
            var spool = Path.Combine(paths.RunDirectory, "spool", SiteIdOf(plan));
            Directory.CreateDirectory(spool);
            var environment = plan.Environment(pacs, stack.StorageConnectionString, spool);
            environment["Relay__SiteId"] = SiteIdOf(plan);
            if (stack.MeetingPacs is { } meeting && meeting.SiteId == plan.SiteId)
            {
                // This relay delivers to the meeting site's PACS, reading the studies from this app's delivery source only.
                environment["Relay__Delivery__AllowedDestinations__0__AeTitle"] = meeting.AeTitle;
                environment["Relay__Delivery__AllowedDestinations__0__Host"] = meeting.Host;
                environment["Relay__Delivery__AllowedDestinations__0__Port"] = meeting.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                environment["Relay__Delivery__AllowedSources__0"] = new Uri(apiUrl, "delivery-source/").ToString();
            }

            foreach (var (key, value) in RelaySettings)
            {
                environment[key] = value;
            }

            children.Add(ChildProcess.StartDotnet("relay-" + plan.SiteId, paths.RelayAssembly, environment, paths.Root, LogDirectory));
        }

        var api = new ApiSession(apiUrl, paths.StackJson);
        await Waiting.UntilAsync("the app's /healthz", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureAlive();
            return await api.IsAliveAsync(ct);
        }, cancellationToken);
        AnsiConsole.MarkupLine($"  app answers /healthz (pid {App.Pid})");
        return api;
    }

    /// <summary>Waits until GET /sites shows every relay online with its PACS answering C-ECHO, and prints them.</summary>
    public async Task<IReadOnlyList<SiteHealth>> WaitForRelaysAsync(ApiSession api, CancellationToken cancellationToken)
    {
        IReadOnlyList<SiteHealth> sites = [];
        await Waiting.UntilAsync("a heartbeat with a successful PACS C-ECHO from every relay (GET /sites)", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureAlive();
            var body = await api.SendAsync(HttpMethod.Get, "/sites", "admin", null, HttpStatusCode.OK, ct);
            sites = SiteHealth.FromApi(body);
            return SiteRelayPlan.Local.All(p => sites.Any(s => s.SiteId == SiteIdOf(p) && s.Online && s.PacsEcho == "Ok"));
        }, cancellationToken);

        var ours = new List<SiteHealth>();
        var table = new Table().AddColumns("site", "PACS", "retrieval", "relay version", "last seen (UTC)", "PACS C-ECHO");
        foreach (var plan in SiteRelayPlan.Local)
        {
            var site = sites.First(s => s.SiteId == SiteIdOf(plan));
            var pacs = stack.Sites.First(p => p.SiteId == plan.SiteId);
            table.AddRow(site.SiteId, $"{pacs.AeTitle}@{pacs.Host}:{pacs.DicomPort}", plan.RetrieveMethod == "Move" ? $"C-MOVE → {plan.RelayAeTitle}:{plan.ScpPort}" : "C-GET", site.RelayVersion ?? "?", site.LastSeen?.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "?", site.PacsEcho);
            ours.Add(site);
        }

        AnsiConsole.Write(table);
        return ours;
    }

    /// <summary>Fails with the child's last log line when the app or a relay has exited.</summary>
    public void EnsureAlive()
    {
        var dead = children.FirstOrDefault(c => c.HasExited);
        if (dead is not null)
        {
            throw new LocalRunException($"{dead.Name} exited: {ScriptRunner.Tail(dead.LogFile)} (log {Path.GetRelativePath(paths.Root, dead.LogFile)})");
        }
    }

    /// <summary>TERM to each child's process group, KILL after 10 s.</summary>
    public Task StopAsync() => ProcessGroups.StopAsync([.. children.Select(c => c.Pid)], TimeSpan.FromSeconds(10));

    /// <summary>The app's settings (environment variables) for the stack, listening on <paramref name="apiUrl"/>, searching <paramref name="siteIds"/>.</summary>
    public static Dictionary<string, string> AppEnvironment(StackEndpoints stack, Uri apiUrl, IEnumerable<string> siteIds) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_URLS"] = apiUrl.ToString().TrimEnd('/'),
        ["Storage__ConnectionString"] = stack.StorageConnectionString,
        ["Cosmos__ConnectionString"] = stack.CosmosConnectionString,
        ["DicomWeb__BaseUrl"] = stack.DicomWebBaseUrl.ToString(),
        ["DicomWeb__OrthancRestUrl"] = stack.DicomServiceHttpUrl.ToString(),
        ["Sites__Ids"] = string.Join(',', siteIds),
        // Relays delivering to a meeting site's PACS read the study from the app's delivery source.
        ["Delivery__SourceBaseUrl"] = apiUrl.ToString(),
        // A study's transfer is a chain of queue hops (relay event, then the engine's orchestration and activity messages)
        // that each wait out an idle poll: at most 50 ms here took 0.1-0.2 s off a 3-study transfer against 250 ms, with no
        // measurable cost in CPU or registrations a minute (tools/EndToEndBench/README.md, 2026-12-05 late). The relays'
        // command polling stays at 250 ms: lower measured no faster.
        ["Orchestration__EventsMaxPollInterval"] = "00:00:00.050",
        ["DurableTask__MaxQueuePollingInterval"] = "00:00:00.050",
        // One process owns the task hub here: one control queue is all it can use, and each further one is polled for
        // nothing (tools/EndToEndBench/README.md, 2026-12-05 night).
        ["DurableTask__PartitionCount"] = "1",
        // A study whose retrieval failed for a transient cause is tried again after 10 s, not the product's minutes.
        ["Orchestration__RetrievalRetryInterval"] = "00:00:10",
        ["Viewer__StudyUrlTemplate"] = stack.DicomWebBaseUrl + "studies/{StudyInstanceUID}/series",
        ["Auth__Authority"] = stack.AuthIssuer,
        ["Auth__Audience"] = stack.AuthAudience,
        ["Auth__DevelopmentJwksPath"] = stack.JwksPath,
        ["Smtp__Host"] = stack.SmtpHost,
        ["Smtp__Port"] = stack.SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Smtp__Security"] = "None",
        ["Smtp__From"] = "3c@serverless-imaging.local",
        ["Smtp__Signature"] = "Le 3C (exécution locale)",
    };

    /// <summary>
    /// The console and the viewer served by the app (functions/ServerlessImaging.Console), the viewer's libraries from
    /// .local/web (tools/stack install), viewer links that open the study in that viewer, and the console's
    /// Development-only sign-in with the stack's key (role buttons instead of pasting a token).
    /// </summary>
    public static Dictionary<string, string> WebSettings(StackEndpoints stack, string repositoryRoot, Uri apiUrl)
    {
        var settings = new Dictionary<string, string>
        {
            ["Web__Root"] = Path.Combine(repositoryRoot, "functions", "ServerlessImaging.Console", "wwwroot"),
            ["Web__LibRoot"] = Path.Combine(repositoryRoot, ".local", "web", "node_modules"),
            ["Viewer__StudyUrlTemplate"] = ViewerUrl(apiUrl, "{StudyInstanceUID}"),
        };
        if (stack.SigningKeyPath is { Length: > 0 } key)
        {
            settings["Auth__DevelopmentSigningKeyPath"] = key;
        }

        return settings;
    }

    /// <summary>The viewer page of a study (the query parameter OHIF also uses).</summary>
    public static string ViewerUrl(Uri apiUrl, string studyInstanceUid) => new Uri(apiUrl, "viewer/").ToString() + "?StudyInstanceUIDs=" + studyInstanceUid;

    /// <summary>A loopback port free right now.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
