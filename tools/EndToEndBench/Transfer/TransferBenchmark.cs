using System.Globalization;
using ServerlessImaging.EndToEndBench.Api;
using ServerlessImaging.EndToEndBench.Data;
using ServerlessImaging.EndToEndBench.Memory;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Scenario;
using Spectre.Console;

namespace ServerlessImaging.EndToEndBench.Transfer;

/// <summary>One round: the same studies moved by our path and by the baseline.</summary>
/// <remarks>The CPU figures are the whole machine's busy CPU seconds (all cores) while each side ran; null where unreadable.</remarks>
internal sealed record TransferRound(int Round, string FirstSide, TimeSpan Ours, TimeSpan OursToCandidates, TimeSpan OursToRetrieved, TimeSpan Baseline, TimeSpan StagingHop)
{
    public double? OursCpuSeconds { get; init; }

    public double? BaselineCpuSeconds { get; init; }

    public double? StagingHopCpuSeconds { get; init; }

    /// <summary>CPU seconds each watched process (app, relays, stand-ins) spent while ours ran.</summary>
    public IReadOnlyDictionary<string, double> OursCpuByProcess { get; init; } = new Dictionary<string, double>();

    public double Ratio => Ours / Baseline;

    /// <summary>Ours from the complete candidate list (selection is automatic) to every study available: the transfer alone, as the baseline does no search.</summary>
    public TimeSpan OursAfterCandidates => Ours - OursToCandidates;
}

/// <summary>
/// N studies x M instances of one patient spread over the three site PACS, moved into the DICOM service by a
/// registration (POST → every study "available", auto-select of all candidates) and by the baseline script, in the
/// same round, alternating which goes first; the DICOM service is emptied of those studies before each side.
/// </summary>
internal sealed class TransferBenchmark(
    BenchOptions options,
    RegistrationDriver driver,
    PacsLoader loader,
    BaselineTransfer baseline,
    StagingHopProbe stagingHop,
    DicomServiceCheck dicomService,
    IReadOnlyList<string> siteIds,
    IReadOnlyList<WatchedProcess> cpuWatched)
{
    public async Task<IReadOnlyList<TransferRound>> RunAsync(CancellationToken cancellationToken)
    {
        var meetingId = await driver.CreateMeetingAsync("transfer", options.Rounds + 1, cancellationToken);
        var rounds = new List<TransferRound>();
        var random = new Random();

        // One round of ours first, not measured: the tiny registrations of the warm-up do not run the large-study paths
        // (multi-megabyte STOW-RS bodies, long retrievals), and the JIT was still compiling about a thousand methods a
        // second in the app during the first measured round without it (dotnet-counters, 2026-12-05).
        {
            var patient = BenchPatient.Create(random, "TRANSFER");
            var plan = StudyLayout.RoundRobin(options.Studies, siteIds, offset: 0).Select(site => new PlannedStudy(patient, site, options.Instances, 512)).ToList();
            AnsiConsole.MarkupLine($"  warm-up round (ours only, not measured): loading {options.Studies} x {options.Instances} instances");
            var studies = await loader.LoadAsync(plan, cancellationToken);
            await ClearAsync(studies, cancellationToken);
            await driver.RegisterAndWaitAsync(meetingId, patient, studies, TimeSpan.FromMinutes(10), cancellationToken);
            await VerifyAsync("ours (warm-up)", studies, cancellationToken);
            await ClearAsync(studies, cancellationToken);
            await loader.RemoveLoadedAsync(cancellationToken);
        }

        for (var round = 1; round <= options.Rounds; round++)
        {
            // A new patient (and new UIDs) every round: nothing is already in staging or in the DICOM service.
            var patient = BenchPatient.Create(random, "TRANSFER");
            var plan = StudyLayout.RoundRobin(options.Studies, siteIds, offset: round - 1)
                .Select(site => new PlannedStudy(patient, site, options.Instances, 512))
                .ToList();
            AnsiConsole.MarkupLine($"  round {round}: loading {options.Studies} x {options.Instances} instances of {patient.Label} into {string.Join(", ", plan.Select(p => p.SiteId).Distinct())}");
            var studies = await loader.LoadAsync(plan, cancellationToken);
            await ClearAsync(studies, cancellationToken);

            var oursFirst = round % 2 == 1;
            TimeSpan ours = default, toCandidates = default, toRetrieved = default, theirs = default;
            double? oursCpu = null, theirsCpu = null;
            IReadOnlyDictionary<string, double> oursByProcess = new Dictionary<string, double>();
            foreach (var side in oursFirst ? new[] { "ours", "baseline" } : ["baseline", "ours"])
            {
                var cpuBefore = CpuTime.MachineBusySeconds();
                if (side == "ours")
                {
                    var processesBefore = CpuTime.Snapshot(cpuWatched);
                    var times = await driver.RegisterAndWaitAsync(meetingId, patient, studies, TimeSpan.FromMinutes(10), cancellationToken);
                    (ours, toCandidates, toRetrieved) = (times.ToAvailable, times.ToCandidates, times.ToRetrieved);
                    oursCpu = CpuTime.MachineBusySeconds() - cpuBefore;
                    oursByProcess = CpuTime.Spent(processesBefore, CpuTime.Snapshot(cpuWatched));
                }
                else
                {
                    theirs = await baseline.RunAsync(studies, cancellationToken);
                    theirsCpu = CpuTime.MachineBusySeconds() - cpuBefore;
                }

                await VerifyAsync(side, studies, cancellationToken);
                await ClearAsync(studies, cancellationToken);
            }

            // 512 x 512 x 16-bit pixels plus about 2 KB of header and meta: the size of the round's instances.
            var hopCpuBefore = CpuTime.MachineBusySeconds();
            var hop = await stagingHop.RunAsync(options.Studies, options.Instances, (512 * 512 * 2) + 2048, cancellationToken);
            var result = new TransferRound(round, oursFirst ? "ours" : "baseline", ours, toCandidates, toRetrieved, theirs, hop)
            {
                OursCpuSeconds = oursCpu,
                OursCpuByProcess = oursByProcess,
                BaselineCpuSeconds = theirsCpu,
                StagingHopCpuSeconds = CpuTime.MachineBusySeconds() - hopCpuBefore,
            };
            rounds.Add(result);
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"    ours {result.Ours.TotalSeconds:0.00} s (candidates after {result.OursToCandidates.TotalSeconds:0.00} s, retrieved after {result.OursToRetrieved.TotalSeconds:0.00} s), baseline {result.Baseline.TotalSeconds:0.00} s, ratio {result.Ratio:0.00}x ({result.FirstSide} first); staging hop alone {result.StagingHop.TotalSeconds:0.00} s; machine CPU busy: ours {result.OursCpuSeconds:0.0} s, baseline {result.BaselineCpuSeconds:0.0} s, hop {result.StagingHopCpuSeconds:0.0} s"));
            await loader.RemoveLoadedAsync(cancellationToken);
        }

        return rounds;
    }

    /// <summary>Both sides must leave exactly every instance of every study in the DICOM service.</summary>
    private async Task VerifyAsync(string side, IReadOnlyList<BenchStudy> studies, CancellationToken cancellationToken)
    {
        foreach (var study in studies)
        {
            var count = await dicomService.CountInstancesAsync(study.StudyInstanceUid, cancellationToken);
            if (count != study.Instances)
            {
                throw new LocalRunException($"{side}: the DICOM service holds {count} of {study.Instances} instances of {study.StudyInstanceUid}");
            }
        }
    }

    private async Task ClearAsync(IReadOnlyList<BenchStudy> studies, CancellationToken cancellationToken)
    {
        foreach (var study in studies)
        {
            await dicomService.DeleteAsync(study.StudyInstanceUid, cancellationToken);
        }
    }
}
