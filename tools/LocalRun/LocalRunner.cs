using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.LocalRun.Scenario;
using ServerlessImaging.RegionGenerator.Manifest;
using Spectre.Console;

namespace ServerlessImaging.LocalRun;

/// <summary>
/// The whole local run: stack, region, cloud app and relays as children, the RCP scenario, the self-check, and
/// stopping exactly what it started.
/// </summary>
internal sealed class LocalRunner(RepositoryPaths paths, LocalRunOptions options) : IAsyncDisposable
{
    private readonly List<ChildProcess> children = [];
    private bool stackStartedHere;
    private bool shutDown;

    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.LogDirectory);
        if (Directory.Exists(paths.PidDirectory) && Directory.GetFiles(paths.PidDirectory, "*.pid").Any(f => int.TryParse(File.ReadAllText(f).Trim(), out var pid) && ProcessGroups.IsAlive(pid)))
        {
            throw new LocalRunException("a previous --keep-running run is still up: stop it first with tools/run-local --stop");
        }

        var startedAt = DateTimeOffset.UtcNow;
        var stack = await StartStackAsync(cancellationToken);
        var manifest = await GenerateRegionAsync(cancellationToken);
        var chosen = ScenarioPatient.Choose(manifest);
        Step($"patient [bold]{chosen.Patient.Key}[/] (pseudonymous manifest key; usage name differs from birth name), {chosen.Studies.Count} studies at {string.Join(", ", chosen.Studies.SelectMany(s => s.Sites).Distinct())}");

        // The self-check needs a DICOM service without left-overs of an earlier run for these studies.
        using var dicomService = new DicomServiceCheck(stack);
        await dicomService.RemoveAsync(chosen.AllRelevantStudies(manifest), cancellationToken);

        using var api = await StartAppAndRelaysAsync(stack, cancellationToken);
        var sites = await WaitForRelaysAsync(api, stack, cancellationToken);

        var scenario = new RcpScenario(api, stack, chosen, [.. manifest.Patients.Where(p => p.NearMiss is not null).Select(p => $"{p.Key} ({p.NearMiss!.Kind} of {p.NearMiss.Of})")], startedAt);
        var outcome = await scenario.RunAsync(cancellationToken);

        Step("self-check: the DICOM service (QIDO-RS) against the manifest");
        var available = await dicomService.VerifyAsync(manifest, chosen, outcome.SelectedStudies, cancellationToken);
        AnsiConsole.MarkupLine($"  [green]ok[/]: {available.Count} selected studies with the manifest's SOP instance UIDs; no other study of the patient, nothing from the {ScenarioPatient.NearMissKeys(manifest).Count} near-miss person(s)");

        return new RunSummary(
            outcome.RegistrationId,
            api.BaseAddress.ToString(),
            stack.DicomWebBaseUrl.ToString(),
            sites,
            outcome.Candidates,
            outcome.NearMissesRejected,
            outcome.SelectedStudies,
            available,
            outcome.EmailsReceived,
            outcome.AuditRecords);
    }

    /// <summary>Stops the children (and the stack if this run started it), or records them when kept running.</summary>
    public async Task ShutdownAsync(bool succeeded)
    {
        if (shutDown)
        {
            return;
        }

        shutDown = true;
        if (succeeded && options.KeepRunning)
        {
            KeptProcesses.Record(paths, children, stackStartedHere);
            Step("left running (stop with [bold]tools/run-local --stop[/]; [bold]tools/stack down[/] also stops the app and relays within seconds)");
            foreach (var child in children)
            {
                AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  {child.Name,-20} pid {child.Pid}  log {Path.GetRelativePath(paths.Root, child.LogFile)}");
            }

            return;
        }

        if (children.Count > 0)
        {
            Step("stopping the app and the relays");
            await ProcessGroups.StopAsync([.. children.Select(c => c.Pid)], TimeSpan.FromSeconds(10));
        }

        if (stackStartedHere)
        {
            Step("stopping the local stand-ins (this run started them)");
            await ScriptRunner.RunAsync(paths.StackScript, ["down"], paths.Root, Path.Combine(paths.LogDirectory, "stack.log"), CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await ShutdownAsync(succeeded: false);

    private static void Step(string markup) => AnsiConsole.MarkupLine($"\n[bold blue]==[/] {markup}");

    private async Task<StackEndpoints> StartStackAsync(CancellationToken cancellationToken)
    {
        var log = Path.Combine(paths.LogDirectory, "stack.log");
        File.WriteAllText(log, string.Empty);
        var wasRunning = await ScriptRunner.RunAsync(paths.StackScript, ["status"], paths.Root, log, cancellationToken) == 0;
        Step(wasRunning ? "local stand-ins already running" : "starting the local stand-ins (tools/stack up)");
        stackStartedHere = !wasRunning;
        if (await ScriptRunner.RunAsync(paths.StackScript, ["up"], paths.Root, log, cancellationToken) != 0)
        {
            throw new LocalRunException($"tools/stack up failed: {ScriptRunner.Tail(log)} (full log .local/run/logs/stack.log)");
        }

        return StackEndpoints.Load(paths.StackJson);
    }

    private async Task<RegionManifest> GenerateRegionAsync(CancellationToken cancellationToken)
    {
        var seed = options.Seed.ToString(CultureInfo.InvariantCulture);
        Step($"generating the region (seed {seed}, tiny) and loading it into the three site PACS");
        var log = Path.Combine(paths.LogDirectory, "region.log");
        File.WriteAllText(log, string.Empty);
        if (await ScriptRunner.RunAsync(paths.GenerateRegionScript, ["generate", "--seed", seed, "--profile", "tiny", "--load"], paths.Root, log, cancellationToken) != 0)
        {
            throw new LocalRunException($"tools/generate-region failed: {ScriptRunner.Tail(log)} (full log .local/run/logs/region.log)");
        }

        var manifest = await RegionManifestFile.LoadAsync(paths.ManifestOf(options.Seed), cancellationToken);
        AnsiConsole.MarkupLine($"  {manifest.Patients.Count} persons ({manifest.Patients.Count(p => p.NearMiss is not null)} near-misses), {manifest.Studies.Count} studies, {manifest.Studies.Sum(s => s.InstanceCount * s.Sites.Count)} instances loaded");
        return manifest;
    }

    private async Task<ApiSession> StartAppAndRelaysAsync(StackEndpoints stack, CancellationToken cancellationToken)
    {
        var port = FreeLoopbackPort();
        var apiUrl = new Uri($"http://127.0.0.1:{port}/");
        Step($"starting the cloud app (standalone) on {apiUrl} and one relay per site");
        var appEnvironment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = apiUrl.ToString().TrimEnd('/'),
            ["Storage__ConnectionString"] = stack.StorageConnectionString,
            ["Cosmos__ConnectionString"] = stack.CosmosConnectionString,
            ["DicomWeb__BaseUrl"] = stack.DicomWebBaseUrl.ToString(),
            ["DicomWeb__OrthancRestUrl"] = stack.DicomServiceHttpUrl.ToString(),
            ["Sites__Ids"] = string.Join(',', SiteRelayPlan.Local.Select(s => s.SiteId)),
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
        children.Add(ChildProcess.StartDotnet("app", paths.AppAssembly, appEnvironment, paths.Root, paths.LogDirectory));

        foreach (var plan in SiteRelayPlan.Local)
        {
            var pacs = stack.Sites.FirstOrDefault(s => s.SiteId == plan.SiteId)
                ?? throw new LocalRunException($"stack.json describes no PACS for site {plan.SiteId}");
            var spool = Path.Combine(paths.RunDirectory, "spool", plan.SiteId);
            Directory.CreateDirectory(spool);
            children.Add(ChildProcess.StartDotnet("relay-" + plan.SiteId, paths.RelayAssembly, plan.Environment(pacs, stack.StorageConnectionString, spool), paths.Root, paths.LogDirectory));
        }

        var api = new ApiSession(apiUrl, paths.StackJson);
        await Waiting.UntilAsync("the app's /healthz", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureChildrenAlive();
            return await api.IsAliveAsync(ct);
        }, cancellationToken);
        AnsiConsole.MarkupLine($"  app answers /healthz (pid {children[0].Pid})");
        return api;
    }

    private async Task<IReadOnlyList<SiteHealth>> WaitForRelaysAsync(ApiSession api, StackEndpoints stack, CancellationToken cancellationToken)
    {
        IReadOnlyList<SiteHealth> sites = [];
        await Waiting.UntilAsync("a heartbeat with a successful PACS C-ECHO from every relay (GET /sites)", TimeSpan.FromSeconds(60), async ct =>
        {
            EnsureChildrenAlive();
            var body = await api.SendAsync(HttpMethod.Get, "/sites", "admin", null, HttpStatusCode.OK, ct);
            sites = SiteHealth.FromApi(body);
            return SiteRelayPlan.Local.All(p => sites.Any(s => s.SiteId == p.SiteId && s.Online && s.PacsEcho == "Ok"));
        }, cancellationToken);

        var table = new Table().AddColumns("site", "PACS", "retrieval", "relay version", "last seen (UTC)", "PACS C-ECHO");
        foreach (var site in sites.Where(s => SiteRelayPlan.Local.Any(p => p.SiteId == s.SiteId)))
        {
            var plan = SiteRelayPlan.Local.First(p => p.SiteId == site.SiteId);
            var pacs = stack.Sites.First(p => p.SiteId == site.SiteId);
            table.AddRow(site.SiteId, $"{pacs.AeTitle}@{pacs.Host}:{pacs.DicomPort}", plan.RetrieveMethod == "Move" ? $"C-MOVE → {plan.RelayAeTitle}:{plan.ScpPort}" : "C-GET", site.RelayVersion ?? "?", site.LastSeen?.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "?", site.PacsEcho);
        }

        AnsiConsole.Write(table);
        return [.. sites.Where(s => SiteRelayPlan.Local.Any(p => p.SiteId == s.SiteId))];
    }

    private void EnsureChildrenAlive()
    {
        var dead = children.FirstOrDefault(c => c.HasExited);
        if (dead is not null)
        {
            throw new LocalRunException($"{dead.Name} exited: {ScriptRunner.Tail(dead.LogFile)} (log {Path.GetRelativePath(paths.Root, dead.LogFile)})");
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
