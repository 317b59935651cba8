using System.Globalization;
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
    private AppAndRelays? system;
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

        // The self-check needs a DICOM service (and a meeting site's PACS) without left-overs of an earlier run for these studies.
        using var dicomService = new DicomServiceCheck(stack);
        await dicomService.RemoveAsync(chosen.AllRelevantStudies(manifest), cancellationToken);

        system = new AppAndRelays(paths, stack);
        if (stack.Atna is { } collector)
        {
            // The audit trail exported to the stack's ATNA collector (syslog over TLS), checked by the self-check below.
            system.AppSettings["Audit__Atna__Host"] = collector.Host;
            system.AppSettings["Audit__Atna__Port"] = collector.Port.ToString(CultureInfo.InvariantCulture);
            system.AppSettings["Audit__Atna__CaCertificatePath"] = collector.CaCertificatePath;
        }

        using var api = await system.StartAsync(cancellationToken);
        var sites = await system.WaitForRelaysAsync(api, cancellationToken);

        var scenario = new RcpScenario(api, stack, chosen, [.. manifest.Patients.Where(p => p.NearMiss is not null).Select(p => $"{p.Key} ({p.NearMiss!.Kind} of {p.NearMiss.Of})")], startedAt);
        var outcome = await scenario.RunAsync(cancellationToken);

        Step("self-check: the DICOM service (QIDO-RS) against the manifest");
        var available = await dicomService.VerifyAsync(manifest, chosen, outcome.SelectedStudies, cancellationToken);
        AnsiConsole.MarkupLine($"  [green]ok[/]: {available.Count} selected studies with the manifest's SOP instance UIDs; no other study of the patient, nothing from the {ScenarioPatient.NearMissKeys(manifest).Count} near-miss person(s)");
        var expectedInstances = manifest.Studies.Where(s => outcome.SelectedStudies.Contains(s.StudyInstanceUid, StringComparer.Ordinal))
            .SelectMany(s => s.Series).SelectMany(s => s.Instances).Select(i => i.SopInstanceUid).Order(StringComparer.Ordinal).ToList();
        if (!outcome.ImagingManifestInstances.Order(StringComparer.Ordinal).SequenceEqual(expectedInstances))
        {
            throw new LocalRunException($"self-check: the imaging manifest lists {outcome.ImagingManifestInstances.Count} instance(s), the selected studies hold {expectedInstances.Count}");
        }

        AnsiConsole.MarkupLine($"  [green]ok[/]: the imaging manifest lists exactly those {expectedInstances.Count} instance(s)");
        if (outcome.DeliveredInstances is { } delivered)
        {
            // Exactly once each: a duplicate would be listed twice by the C-FIND.
            if (!delivered.SequenceEqual(expectedInstances) || !outcome.ManifestDelivered)
            {
                throw new LocalRunException($"self-check: the meeting site's PACS holds {delivered.Count} instance(s) of the selected studies, the region {expectedInstances.Count}; manifest delivered: {outcome.ManifestDelivered}");
            }

            AnsiConsole.MarkupLine($"  [green]ok[/]: the meeting site's PACS holds exactly those {expectedInstances.Count} instance(s), once each, and the manifest");
        }

        if (stack.Atna is { } atna)
        {
            Step("self-check: the audit trail exported to the ATNA collector (rsyslog, syslog over TLS)");
            var exported = await AtnaExportCheck.VerifyAsync(api, atna, startedAt, cancellationToken);
            AnsiConsole.MarkupLine($"  [green]ok[/]: {exported} audit record(s) of the run reached the collector, once each ({Path.GetRelativePath(paths.Root, atna.ReceivedPath)})");
        }

        Step("console and viewer (served by the app; sign in with a role button, or a token from [bold]tools/dev-token --role registrar|coordinator|auditor|admin[/])");
        AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  console: {new Uri(api.BaseAddress, "console/")}#/inscriptions/{Uri.EscapeDataString(outcome.RegistrationId)}");
        var phantom = manifest.Studies.FirstOrDefault(s => s.Series.Any(x => x.Pixels == ServerlessImaging.RegionGenerator.Writing.CtPhantom.PixelsKind) && outcome.SelectedStudies.Contains(s.StudyInstanceUid, StringComparer.Ordinal));
        foreach (var study in outcome.SelectedStudies)
        {
            var label = study == phantom?.StudyInstanceUid ? " (chest CT phantom, 512×512)" : string.Empty;
            AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  viewer:  {AppAndRelays.ViewerUrl(api.BaseAddress, study)}{label}");
        }

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
        var children = system?.Children ?? [];
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
            await system!.StopAsync();
        }

        if (stackStartedHere)
        {
            Step("stopping the local stand-ins (this run started them)");
            await ScriptRunner.RunAsync(paths.StackScript, ["down"], paths.Root, Path.Combine(paths.LogDirectory, "stack.log"), CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await ShutdownAsync(succeeded: false);

    /// <summary>Slices of the chest CT phantom the run's region gives the registered patient (512×512 each, ~20 MB in all).</summary>
    internal const string CtPhantomSlices = "40";

    /// <summary>One step heading of the run's output.</summary>
    internal static void Step(string markup) => AnsiConsole.MarkupLine($"\n[bold blue]==[/] {markup}");

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
        if (await ScriptRunner.RunAsync(paths.GenerateRegionScript, ["generate", "--seed", seed, "--profile", "tiny", "--ct-phantom", CtPhantomSlices, "--load"], paths.Root, log, cancellationToken) != 0)
        {
            throw new LocalRunException($"tools/generate-region failed: {ScriptRunner.Tail(log)} (full log .local/run/logs/region.log)");
        }

        var manifest = await RegionManifestFile.LoadAsync(paths.ManifestOf(options.Seed), cancellationToken);
        AnsiConsole.MarkupLine($"  {manifest.Patients.Count} persons ({manifest.Patients.Count(p => p.NearMiss is not null)} near-misses), {manifest.Studies.Count} studies, {manifest.Studies.Sum(s => s.InstanceCount * s.Sites.Count)} instances loaded");
        return manifest;
    }
}
