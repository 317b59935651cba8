using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.EndToEndBench.Data;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;

namespace ServerlessImaging.EndToEndBench.Transfer;

/// <summary>Runs baseline-transfer.sh (getscu per site in parallel, then curl STOW-RS per study) and times it.</summary>
internal sealed class BaselineTransfer(StackEndpoints stack, string workDirectory, string logDirectory)
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "baseline-transfer.sh");

    /// <summary>The script's site arguments: <c>AE@host:port=uid,uid</c>, one per site holding studies.</summary>
    public static IReadOnlyList<string> SiteArguments(IReadOnlyList<BenchStudy> studies, IReadOnlyList<SitePacs> sites)
    {
        ArgumentNullException.ThrowIfNull(studies);
        ArgumentNullException.ThrowIfNull(sites);
        return
        [
            .. studies.GroupBy(s => s.SiteId).Select(group =>
            {
                var pacs = sites.FirstOrDefault(p => p.SiteId == group.Key) ?? throw new LocalRunException($"no PACS for site {group.Key}");
                return $"{pacs.AeTitle}@{pacs.Host}:{pacs.DicomPort.ToString(CultureInfo.InvariantCulture)}={string.Join(',', group.Select(s => s.StudyInstanceUid))}";
            }),
        ];
    }

    /// <summary>Transfers <paramref name="studies"/> into the DICOM service; returns the wall time of the whole script.</summary>
    public async Task<TimeSpan> RunAsync(IReadOnlyList<BenchStudy> studies, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(workDirectory, "baseline-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var log = Path.Combine(logDirectory, "baseline.log");
        await File.WriteAllTextAsync(log, string.Empty, cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            var code = await ScriptRunner.RunAsync(Script, [folder, stack.DicomWebBaseUrl.ToString(), .. SiteArguments(studies, stack.Sites)], workDirectory, log, cancellationToken);
            clock.Stop();
            if (code != 0)
            {
                throw new LocalRunException($"baseline transfer failed ({code}): {ScriptRunner.Tail(log, 3)} (log {log})");
            }

            // Each study's line: "<uid> <files received by getscu>".
            var received = File.ReadLines(log).Select(l => l.Split(' ')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
            var incomplete = studies.FirstOrDefault(s => received.GetValueOrDefault(s.StudyInstanceUid) != s.Instances);
            if (incomplete is not null)
            {
                throw new LocalRunException($"baseline: getscu received {received.GetValueOrDefault(incomplete.StudyInstanceUid)} of {incomplete.Instances} instances of {incomplete.StudyInstanceUid} (log {log})");
            }

            return clock.Elapsed;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
