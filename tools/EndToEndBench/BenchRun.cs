using System.Globalization;
using Azure.Storage.Queues;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Contracts;
using ServerlessImaging.EndToEndBench.Api;
using ServerlessImaging.EndToEndBench.Data;
using ServerlessImaging.EndToEndBench.Memory;
using ServerlessImaging.EndToEndBench.Rate;
using ServerlessImaging.EndToEndBench.Transfer;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.LocalRun.Scenario;
using Spectre.Console;

namespace ServerlessImaging.EndToEndBench;

/// <summary>
/// One benchmark run: the stack (started if needed, never stopped), the app and three relays with queues, site ids and
/// a Cosmos database of their own (so nothing else on the shared stack steals or adds work), a warm-up registration,
/// then the parts; stops its children and drops what it created.
/// </summary>
internal sealed class BenchRun(RepositoryPaths paths, BenchOptions options) : IAsyncDisposable
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(100);
    private readonly string runId = Guid.NewGuid().ToString("N")[..8];
    private readonly string workDirectory = Directory.CreateTempSubdirectory("e2e-bench-").FullName;
    private readonly string logDirectory = Path.Combine(paths.Root, ".local", "e2e-bench", "logs");
    private StackEndpoints? stack;
    private AppAndRelays? system;
    private bool stopped;

    private string DatabaseName => "e2e-bench-" + runId;

    // The app derives its task hub from the database name (letters and digits; DurableTaskEngineOptions.EffectiveHubName).
    private string TaskHubName => new([.. DatabaseName.Where(char.IsAsciiLetterOrDigit)]);

    public async Task<BenchSummary> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(logDirectory);
        var loadAtStart = LoadAverage();
        LocalRunner.Step("local stand-ins (tools/stack up; left running)");
        var stackLog = Path.Combine(logDirectory, "stack.log");
        if (await ScriptRunner.RunAsync(paths.StackScript, ["up"], paths.Root, stackLog, cancellationToken) != 0)
        {
            throw new LocalRunException($"tools/stack up failed: {ScriptRunner.Tail(stackLog)} (log {stackLog})");
        }

        stack = StackEndpoints.Load(paths.StackJson);
        system = new AppAndRelays(paths, stack) { SiteIdSuffix = "e2e" + runId[..5], LogDirectory = logDirectory };
        system.AppSettings["Cosmos__DatabaseName"] = DatabaseName;

        // The relay's shipped progress interval (run-local shows progress every 250 ms; at that rate three relays'
        // progress events contend for the one registration document and delay the completion events behind them).
        system.RelaySettings["Relay__ProgressIntervalMilliseconds"] = options.ProgressMilliseconds.ToString(CultureInfo.InvariantCulture);

        // Timestamped single-line logs, so a run's timeline (search, retrieval, store) can be read from the logs.
        foreach (var settings in new[] { system.AppSettings, system.RelaySettings })
        {
            settings["Logging__Console__FormatterName"] = "simple";
            settings["Logging__Console__FormatterOptions__SingleLine"] = "true";
            settings["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        }
        foreach (var (key, value) in options.AppSettings)
        {
            system.AppSettings[key] = value;
        }

        foreach (var (key, value) in options.RelaySettings)
        {
            system.RelaySettings[key] = value;
        }

        using var api = await system.StartAsync(cancellationToken);
        await system.WaitForRelaysAsync(api, cancellationToken);

        var apiSiteIds = SiteRelayPlan.Local.Select(system.SiteIdOf).ToList();
        var pacsSiteIds = SiteRelayPlan.Local.Select(p => p.SiteId).ToList();
        var driver = new RegistrationDriver(api, apiSiteIds, options.PollInterval);
        using var loader = new PacsLoader(stack, workDirectory, logDirectory);
        using var dicomService = new DicomServiceCheck(stack);

        // The DICOM service's index grows with every study left in it, and its QIDO-RS and STOW-RS slow down with it
        // (a working copy whose service held 5,000 studies spent 50 ms of its CPU per registration, a fresh one 20):
        // every study of the benchmark's patients goes, before and after, manifests included.
        var leftOver = await dicomService.DeleteStudiesOfPatientsAsync(BenchPatient.NamePattern, cancellationToken);
        LocalRunner.Step($"the DICOM service: {leftOver} stud(ies) of earlier runs' patients deleted");
        var watched = new List<WatchedProcess> { new("app", system.App.Pid) };
        watched.AddRange(system.Relays.Select(r => new WatchedProcess("relay " + r.Plan.SiteId, r.Process.Pid)));
        IReadOnlyList<WatchedProcess> cpuWatched = [.. watched, .. CpuTime.StackServices(Path.Combine(paths.Root, ".local", "stack", "pids"))];

        // At least 24, three times as many as will be in flight, at least 8 at once: the code paths a measured part runs
        // are then past the JIT's first tiers (with a single warm-up registration the JIT took a quarter of the app's CPU
        // time during the rate part; with 3 before a run at 1 in flight, the app spent 600 ms of CPU per registration
        // against 170 once warm).
        var warmUp = Math.Max(24, 3 * options.Concurrency);
        var warmUpConcurrency = Math.Max(8, options.Concurrency);
        LocalRunner.Step($"warm-up: {warmUp} tiny registrations, {warmUpConcurrency} at once (not measured)");
        await new RegistrationRateBenchmark(options with { Registrations = warmUp, Concurrency = warmUpConcurrency }, driver, loader, dicomService, pacsSiteIds, cpuWatched).RunAsync(cancellationToken);

        var peaks = new Dictionary<string, IReadOnlyDictionary<string, long>>();
        IReadOnlyList<TransferRound> transfer = [];
        if (options.RunsTransfer)
        {
            LocalRunner.Step($"transfer: {options.Studies} studies x {options.Instances} instances, {options.Rounds} round(s), ours vs getscu + curl STOW-RS");
            await using var memory = PeakMemory.Start(watched, SampleInterval);
            transfer = await new TransferBenchmark(options, driver, loader, new BaselineTransfer(stack, workDirectory, logDirectory), new StagingHopProbe(stack.StorageConnectionString), dicomService, pacsSiteIds, cpuWatched).RunAsync(cancellationToken);
            peaks["transfer"] = await memory.StopAsync();
            peaks["transfer, anonymous"] = memory.AnonymousPeaks;
            system.EnsureAlive();
        }

        RateResult? rate = null;
        if (options.RunsRegistrations)
        {
            LocalRunner.Step($"registration rate: {options.Registrations} registrations, {options.Concurrency} in flight");
            await using var memory = PeakMemory.Start(watched, SampleInterval);
            rate = await new RegistrationRateBenchmark(options, driver, loader, dicomService, pacsSiteIds, cpuWatched).RunAsync(cancellationToken);
            peaks["registrations"] = await memory.StopAsync();
            peaks["registrations, anonymous"] = memory.AnonymousPeaks;
            system.EnsureAlive();
        }

        var bytes = (long)options.Studies * options.Instances * (512 * 512 * 2);
        var loadAtEnd = LoadAverage();
        await dicomService.DeleteStudiesOfPatientsAsync(BenchPatient.NamePattern, cancellationToken);
        return new BenchSummary(options, new MachineState(Environment.ProcessorCount, loadAtStart, loadAtEnd), bytes, transfer, rate, peaks);
    }

    /// <summary>Stops the app and relays, drops the run's Cosmos database and queues, deletes temporary files.</summary>
    public async Task StopAsync()
    {
        if (stopped)
        {
            return;
        }

        stopped = true;
        if (system is not null)
        {
            LocalRunner.Step("stopping the app and the relays; dropping the run's database and queues");
            await system.StopAsync();
            await DropRunResourcesAsync(system);
        }

        Directory.Delete(workDirectory, recursive: true);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private async Task DropRunResourcesAsync(AppAndRelays children)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            using var cosmos = CosmosClientFactory.Create(new CosmosOptions { ConnectionString = stack!.CosmosConnectionString }, null);
            await cosmos.GetDatabase(DatabaseName).DeleteAsync(cancellationToken: timeout.Token);
            var queues = new QueueServiceClient(stack.StorageConnectionString);
            var names = new List<string>();
            foreach (var plan in SiteRelayPlan.Local)
            {
                names.Add(ResourceNames.CommandQueueFor(children.SiteIdOf(plan)));
                names.Add(ResourceNames.PoisonQueueFor(children.SiteIdOf(plan)));
                names.Add(ResourceNames.EventsQueueFor(children.SiteIdOf(plan)));
                names.Add(ResourceNames.EventsPoisonQueueFor(children.SiteIdOf(plan)));
                var spool = Path.Combine(paths.RunDirectory, "spool", children.SiteIdOf(plan));
                if (Directory.Exists(spool))
                {
                    Directory.Delete(spool, recursive: true);
                }
            }

            foreach (var name in names)
            {
                await queues.GetQueueClient(name).DeleteIfExistsAsync(timeout.Token);
            }

            // The run's task hub (history and instances tables, control and work-item queues, leases): left in Azurite, every
            // run's history would slow the next runs down (Azurite rewrites its whole table database every few seconds).
            var hub = new DurableTask.AzureStorage.AzureStorageOrchestrationService(new DurableTask.AzureStorage.AzureStorageOrchestrationServiceSettings
            {
                TaskHubName = TaskHubName,
                StorageAccountClientProvider = new DurableTask.AzureStorage.StorageAccountClientProvider(stack.StorageConnectionString),
            });
            try
            {
                await hub.DeleteAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The engine's storage errors are its own internal type: any failure here only leaves space used.
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  [yellow]could not delete the run's task hub[/] ({ex.GetType().Name})");
            }
        }
        catch (Exception ex) when (ex is Microsoft.Azure.Cosmos.CosmosException or Azure.RequestFailedException or OperationCanceledException or HttpRequestException or IOException)
        {
            // Left-overs only cost a little space in the stand-ins; the figures are unaffected.
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  [yellow]could not drop every resource of the run[/] ({ex.GetType().Name})");
        }
    }
}
