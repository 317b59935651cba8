using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.EndToEndBench.Api;
using ServerlessImaging.EndToEndBench.Data;
using ServerlessImaging.EndToEndBench.Memory;
using ServerlessImaging.LocalRun.Scenario;
using Spectre.Console;

namespace ServerlessImaging.EndToEndBench.Rate;

/// <summary>What the registration-rate part measured.</summary>
/// <param name="Steps">Per registration, where its time went (<see cref="StepTimings"/>).</param>
/// <param name="CpuSeconds">CPU seconds each watched process spent during the measured part.</param>
internal sealed record RateResult(int Registrations, int Concurrency, TimeSpan Wall, IReadOnlyList<RegistrationTimes> Times, IReadOnlyList<IReadOnlyDictionary<string, double>> Steps, IReadOnlyDictionary<string, double> CpuSeconds)
{
    public double PerMinute => Registrations / Wall.TotalMinutes;
}

/// <summary>
/// Many small registrations through the real app, relays and PACS: one patient with one tiny study each (two 64x64
/// instances), studies spread over the three sites, <see cref="BenchOptions.Concurrency"/> registrations in flight.
/// Each is timed from its POST to the first complete candidate list and to its study being available.
/// </summary>
internal sealed class RegistrationRateBenchmark(BenchOptions options, RegistrationDriver driver, PacsLoader loader, DicomServiceCheck dicomService, IReadOnlyList<string> siteIds, IReadOnlyList<WatchedProcess> cpuWatched)
{
    public async Task<RateResult> RunAsync(CancellationToken cancellationToken)
    {
        var random = new Random();
        var patients = Enumerable.Range(0, options.Registrations).Select(_ => BenchPatient.Create(random, "RATE")).ToList();
        var sites = StudyLayout.RoundRobin(options.Registrations, siteIds);
        AnsiConsole.MarkupLine($"  loading {options.Registrations} tiny studies (one per patient) into the three site PACS");
        var studies = await loader.LoadAsync([.. patients.Select((p, i) => new PlannedStudy(p, sites[i], 2, 64))], cancellationToken);
        var meetingId = await driver.CreateMeetingAsync("rate", options.Registrations, cancellationToken);

        AnsiConsole.MarkupLine($"  {options.Registrations} registrations, {options.Concurrency} at a time");
        var times = new RegistrationTimes[options.Registrations];
        var done = 0;
        var cpuBefore = CpuTime.Snapshot(cpuWatched);
        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Registrations), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            times[i] = await driver.RegisterAndWaitAsync(meetingId, patients[i], [studies[i]], TimeSpan.FromMinutes(5), ct);
            var finished = Interlocked.Increment(ref done);
            if (finished % 10 == 0 || finished == options.Registrations)
            {
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"    {finished}/{options.Registrations} available after {wall.Elapsed.TotalSeconds:0.0} s"));
            }
        });
        wall.Stop();
        var cpu = CpuTime.Spent(cpuBefore, CpuTime.Snapshot(cpuWatched));

        // Read after the clock stopped: the audit queries are not part of the measured load.
        var steps = new List<IReadOnlyDictionary<string, double>>(times.Length);
        foreach (var registration in times)
        {
            steps.Add(StepTimings.Of(registration, await driver.ReadTrailAsync(registration.RegistrationId, cancellationToken)));
        }

        await loader.RemoveLoadedAsync(cancellationToken);
        foreach (var study in studies)
        {
            await dicomService.DeleteAsync(study.StudyInstanceUid, cancellationToken);
        }

        return new RateResult(options.Registrations, options.Concurrency, wall.Elapsed, times, steps, cpu);
    }
}
