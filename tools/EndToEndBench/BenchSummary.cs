using System.Globalization;
using System.Text.Json;
using ServerlessImaging.EndToEndBench.Rate;
using ServerlessImaging.EndToEndBench.Transfer;
using Spectre.Console;

namespace ServerlessImaging.EndToEndBench;

/// <summary>The machine a run measured on, as far as it matters for reading the figures.</summary>
internal sealed record MachineState(int Cores, string LoadAverageAtStart, string LoadAverageAtEnd);

/// <summary>Everything a run measured: tables for people, one JSON line for tools.</summary>
internal sealed record BenchSummary(
    BenchOptions Options,
    MachineState Machine,
    long TransferBytes,
    IReadOnlyList<TransferRound> Transfer,
    RateResult? Rate,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> PeakMemoryByPart)
{
    /// <summary>The issue's target for the transfer ratio ours/baseline.</summary>
    public const double TargetRatio = 1.2;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public double? OursMedianSeconds => Transfer.Count == 0 ? null : Statistics.Median([.. Transfer.Select(r => r.Ours.TotalSeconds)]);

    public double? BaselineMedianSeconds => Transfer.Count == 0 ? null : Statistics.Median([.. Transfer.Select(r => r.Baseline.TotalSeconds)]);

    /// <summary>Median of ours over median of the baseline.</summary>
    public double? Ratio => OursMedianSeconds / BaselineMedianSeconds;

    /// <summary>Median of ours after the search (candidates → available) over median of the baseline, which knows the study UIDs.</summary>
    public double? StagingHopMedianSeconds => Transfer.Count == 0 ? null : Statistics.Median([.. Transfer.Select(r => r.StagingHop.TotalSeconds)]);

    /// <summary>What the baseline would take passing its bytes once through staging (sequentially), over the baseline.</summary>
    public double? BaselinePlusHopRatio => (BaselineMedianSeconds + StagingHopMedianSeconds) / BaselineMedianSeconds;

    public double? TransferOnlyRatio => Transfer.Count == 0 ? null : Statistics.Median([.. Transfer.Select(r => r.OursAfterCandidates.TotalSeconds)]) / BaselineMedianSeconds;

    public void Print()
    {
        AnsiConsole.MarkupLine($"\n[bold]End-to-end benchmark[/] — {Machine.Cores} cores, load average {Machine.LoadAverageAtStart} at start, {Machine.LoadAverageAtEnd} at end");
        if (Transfer.Count > 0)
        {
            var table = new Table().Title($"transfer: {Options.Studies} studies x {Options.Instances} instances ({TransferBytes / 1e6:0} MB) of one patient, round-robin over the three site PACS")
                .AddColumns("round", "first", "ours: POST → available (s)", "→ candidates (s)", "→ retrieved (s)", "candidates → available (s)", "baseline: getscu + STOW-RS (s)", "staging hop alone (s)", "ours/baseline");
            foreach (var r in Transfer)
            {
                table.AddRow(r.Round.ToString(CultureInfo.InvariantCulture), r.FirstSide, Cell(r.Ours.TotalSeconds), Cell(r.OursToCandidates.TotalSeconds), Cell(r.OursToRetrieved.TotalSeconds), Cell(r.OursAfterCandidates.TotalSeconds), Cell(r.Baseline.TotalSeconds), Cell(r.StagingHop.TotalSeconds), Cell(r.Ratio) + "x");
            }

            table.AddRow("[bold]median[/]", string.Empty, Cell(OursMedianSeconds!.Value), Cell(Statistics.Median([.. Transfer.Select(r => r.OursToCandidates.TotalSeconds)])), Cell(Statistics.Median([.. Transfer.Select(r => r.OursToRetrieved.TotalSeconds)])), Cell(Statistics.Median([.. Transfer.Select(r => r.OursAfterCandidates.TotalSeconds)])), Cell(BaselineMedianSeconds!.Value), Cell(StagingHopMedianSeconds!.Value), $"[bold]{Cell(Ratio!.Value)}x[/]");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"  ratio = median ours / median baseline = [bold]{Cell(Ratio!.Value)}x[/], target ≤ {Cell(TargetRatio)}x: {(Ratio <= TargetRatio ? "[green]met[/]" : "[red]not met[/]")}; ours' milestones as the client saw them ({Options.StatusReads})");
            AnsiConsole.MarkupLine($"  transfer alone (ours from the candidate list, as the baseline searches nothing) = {Cell(TransferOnlyRatio!.Value)}x the baseline");
            AnsiConsole.MarkupLine($"  staging hop alone (the round's bytes into Azurite and back, as relays and store do) = {Cell(StagingHopMedianSeconds!.Value)} s: the baseline plus one pass through staging would be {Cell(BaselinePlusHopRatio!.Value)}x the baseline");
            if (Transfer.All(r => r.OursCpuSeconds is not null && r.BaselineCpuSeconds is not null && r.StagingHopCpuSeconds is not null))
            {
                var oursCpu = Statistics.Median([.. Transfer.Select(r => r.OursCpuSeconds!.Value)]);
                var theirsCpu = Statistics.Median([.. Transfer.Select(r => r.BaselineCpuSeconds!.Value)]);
                var hopCpu = Statistics.Median([.. Transfer.Select(r => r.StagingHopCpuSeconds!.Value)]);
                AnsiConsole.MarkupLine($"  machine CPU busy (all cores, median): ours {Cell(oursCpu)} s, baseline {Cell(theirsCpu)} s, staging hop {Cell(hopCpu)} s: ours costs {Cell(oursCpu / (theirsCpu + hopCpu))}x the CPU of the baseline plus the hop; on {Machine.Cores} cores ours ran {Cell(100 * oursCpu / (OursMedianSeconds!.Value * Machine.Cores), "0")} % busy");
            }
        }

        if (Rate is { } rate)
        {
            var toCandidates = rate.Times.Select(t => t.ToCandidates.TotalMilliseconds).ToList();
            var toAvailable = rate.Times.Select(t => t.ToAvailable.TotalMilliseconds).ToList();
            var table = new Table().Title($"registrations: {rate.Registrations} (one tiny study each), {rate.Concurrency} in flight, {Options.StatusReads}")
                .AddColumns("registrations/min", "wall (s)", "POST → candidates p50 / p95 (ms)", "POST → available p50 / p95 (ms)");
            table.AddRow(
                $"[bold]{Cell(rate.PerMinute, "0")}[/]",
                Cell(rate.Wall.TotalSeconds),
                $"{Cell(Statistics.Percentile(toCandidates, 50), "0")} / {Cell(Statistics.Percentile(toCandidates, 95), "0")}",
                $"{Cell(Statistics.Percentile(toAvailable, 50), "0")} / {Cell(Statistics.Percentile(toAvailable, 95), "0")}");
            AnsiConsole.Write(table);

            var steps = new Table().Title("where a registration's time goes (ms; from the audit trail's step times and the client's clock)")
                .AddColumns("step", "p50", "p95", "registrations");
            foreach (var (step, values) in StepQuantiles(rate))
            {
                steps.AddRow(step, Cell(Statistics.Percentile(values, 50), "0"), Cell(Statistics.Percentile(values, 95), "0"), values.Count.ToString(CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(steps);

            var cpu = new Table().Title($"CPU per registration (ms of CPU time while the {rate.Registrations} ran; {Cell(rate.CpuSeconds.Values.Sum() / rate.Wall.TotalSeconds)} of {Machine.Cores} cores busy on average)")
                .AddColumns("process", "CPU ms / registration", "share");
            var total = rate.CpuSeconds.Values.Sum();
            foreach (var (process, seconds) in rate.CpuSeconds.OrderByDescending(c => c.Value))
            {
                cpu.AddRow(process, Cell(seconds * 1000 / rate.Registrations, "0"), Cell(100 * seconds / total, "0") + " %");
            }

            AnsiConsole.Write(cpu);
        }

        var memory = new Table().Title("peak resident memory (MB; VmHWM reset at the start of each part, VmRSS sampled; anonymous: RssAnon sampled, without mapped files)").AddColumn("process");
        foreach (var part in PeakMemoryByPart.Keys)
        {
            memory.AddColumn(part);
        }

        foreach (var process in PeakMemoryByPart.Values.SelectMany(p => p.Keys).Distinct())
        {
            memory.AddRow([process, .. PeakMemoryByPart.Values.Select(p => p.TryGetValue(process, out var bytes) ? Cell(bytes / 1e6, "0") : "-")]);
        }

        AnsiConsole.Write(memory);
    }

    public string ToJson()
    {
        var rate = Rate is null ? null : new
        {
            registrations = Rate.Registrations,
            concurrency = Rate.Concurrency,
            perMinute = Math.Round(Rate.PerMinute, 1),
            wallSeconds = Math.Round(Rate.Wall.TotalSeconds, 2),
            toCandidatesMs = Quantiles(Rate.Times.Select(t => t.ToCandidates.TotalMilliseconds)),
            toAvailableMs = Quantiles(Rate.Times.Select(t => t.ToAvailable.TotalMilliseconds)),
            stepsMs = StepQuantiles(Rate).ToDictionary(s => s.Step, s => Quantiles(s.Values)),
            cpuMsPerRegistration = Rate.CpuSeconds.ToDictionary(c => c.Key, c => Math.Round(c.Value * 1000 / Rate.Registrations)),
        };
        var transfer = Transfer.Count == 0 ? null : new
        {
            studies = Options.Studies,
            instances = Options.Instances,
            megabytes = Math.Round(TransferBytes / 1e6, 1),
            rounds = Transfer.Count,
            oursSeconds = Transfer.Select(r => Math.Round(r.Ours.TotalSeconds, 2)),
            oursToCandidatesSeconds = Transfer.Select(r => Math.Round(r.OursToCandidates.TotalSeconds, 2)),
            oursToRetrievedSeconds = Transfer.Select(r => Math.Round(r.OursToRetrieved.TotalSeconds, 2)),
            baselineSeconds = Transfer.Select(r => Math.Round(r.Baseline.TotalSeconds, 2)),
            oursMedianSeconds = Math.Round(OursMedianSeconds!.Value, 2),
            baselineMedianSeconds = Math.Round(BaselineMedianSeconds!.Value, 2),
            ratio = Math.Round(Ratio!.Value, 2),
            oursAfterCandidatesSeconds = Transfer.Select(r => Math.Round(r.OursAfterCandidates.TotalSeconds, 2)),
            transferOnlyRatio = Math.Round(TransferOnlyRatio!.Value, 2),
            stagingHopSeconds = Transfer.Select(r => Math.Round(r.StagingHop.TotalSeconds, 2)),
            machineCpuSeconds = new
            {
                ours = Transfer.Select(r => r.OursCpuSeconds is { } v ? Math.Round(v, 2) : (double?)null),
                baseline = Transfer.Select(r => r.BaselineCpuSeconds is { } v ? Math.Round(v, 2) : (double?)null),
                stagingHop = Transfer.Select(r => r.StagingHopCpuSeconds is { } v ? Math.Round(v, 2) : (double?)null),
                oursByProcessMedian = Transfer.SelectMany(r => r.OursCpuByProcess.Keys).Distinct(StringComparer.Ordinal)
                    .ToDictionary(name => name, name => Math.Round(Statistics.Median([.. Transfer.Select(r => r.OursCpuByProcess.GetValueOrDefault(name))]), 2)),
            },
            baselinePlusHopRatio = Math.Round(BaselinePlusHopRatio!.Value, 2),
            targetRatio = TargetRatio,
        };
        return JsonSerializer.Serialize(new
        {
            cores = Machine.Cores,
            loadAverageAtStart = Machine.LoadAverageAtStart,
            loadAverageAtEnd = Machine.LoadAverageAtEnd,
            pollMs = Options.PollInterval.TotalMilliseconds,
            relayProgressMs = Options.ProgressMilliseconds,
            appSettings = Options.AppSettings,
            relaySettings = Options.RelaySettings,
            transfer,
            registrations = rate,
            peakMemoryMB = PeakMemoryByPart.ToDictionary(p => p.Key, p => p.Value.ToDictionary(v => v.Key, v => Math.Round(v.Value / 1e6))),
        }, JsonOptions);
    }

    // Each step's values over the registrations whose trail had both of its points.
    private static IEnumerable<(string Step, List<double> Values)> StepQuantiles(RateResult rate) =>
        StepTimings.Steps
            .Select(step => (step, rate.Steps.Where(s => s.ContainsKey(step)).Select(s => s[step]).ToList()))
            .Where(s => s.Item2.Count > 0);

    private static object Quantiles(IEnumerable<double> values)
    {
        var list = values.ToList();
        return new { p50 = Math.Round(Statistics.Percentile(list, 50)), p95 = Math.Round(Statistics.Percentile(list, 95)) };
    }

    private static string Cell(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
}
