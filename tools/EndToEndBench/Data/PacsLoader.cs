using System.Globalization;
using ServerlessImaging.Dicom;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.LocalRun.Scenario;
using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.EndToEndBench.Data;

/// <summary>A study to create: whose, where, how many instances of what size.</summary>
internal sealed record PlannedStudy(BenchPatient Patient, string SiteId, int Instances, int Size);

/// <summary>
/// Writes synthetic CT studies (fresh UIDs, random pixels so nothing compresses or deduplicates) and C-STOREs them
/// into the site PACS with dcmtk's storescu, one association per site, sites in parallel. Removes them from the
/// Orthanc sites afterwards (dcmqrscp has no delete over the network; its quota drops the oldest studies).
/// </summary>
internal sealed class PacsLoader(StackEndpoints stack, string workDirectory, string logDirectory) : IDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private readonly List<BenchStudy> loaded = [];

    public async Task<IReadOnlyList<BenchStudy>> LoadAsync(IReadOnlyList<PlannedStudy> plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var batch = Path.Combine(workDirectory, "load-" + Guid.NewGuid().ToString("N")[..8]);
        var studies = new List<BenchStudy>();
        var random = new Random();
        for (var s = 0; s < plan.Count; s++)
        {
            var planned = plan[s];
            var folder = Path.Combine(batch, planned.SiteId);
            Directory.CreateDirectory(folder);
            var study = new BenchStudy(DicomUid.Generate(), planned.SiteId, planned.Instances);
            var series = DicomUid.Generate();
            var pixels = new byte[planned.Size * planned.Size * 2];
            for (var i = 1; i <= planned.Instances; i++)
            {
                random.NextBytes(pixels);
                var instance = new SyntheticInstance
                {
                    StudyInstanceUid = study.StudyInstanceUid,
                    SeriesInstanceUid = series,
                    PatientName = planned.Patient.DicomName,
                    PatientId = "E2E-" + study.StudyInstanceUid[^10..],
                    PatientBirthDate = planned.Patient.BirthDate,
                    PatientSex = planned.Patient.Sex,
                    StudyDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-s - 1),
                    StudyDescription = "E2E BENCH",
                    SeriesNumber = 1,
                    InstanceNumber = i,
                    Rows = planned.Size,
                    Columns = planned.Size,
                };

                // Written before the buffer is refilled for the next instance.
                await instance.WriteAsync(Path.Combine(folder, $"{s:D4}-{i:D5}.dcm"), pixels, cancellationToken);
            }

            studies.Add(study);
        }

        try
        {
            await Task.WhenAll(studies.Select(s => s.SiteId).Distinct().Select(site => StoreAsync(site, Path.Combine(batch, site), cancellationToken)));
        }
        finally
        {
            loaded.AddRange(studies);
            Directory.Delete(batch, recursive: true);
        }

        return studies;
    }

    /// <summary>Deletes every loaded study from the Orthanc site PACS; returns how many stay in dcmqrscp.</summary>
    public async Task<int> RemoveLoadedAsync(CancellationToken cancellationToken)
    {
        var kept = 0;
        foreach (var study in loaded)
        {
            var pacs = Pacs(study.SiteId);
            if (pacs.HttpUrl is null)
            {
                kept++;
                continue;
            }

            await DicomServiceCheck.DeleteFromOrthancAsync(http, pacs.HttpUrl, study.StudyInstanceUid, cancellationToken);
        }

        loaded.Clear();
        return kept;
    }

    public void Dispose() => http.Dispose();

    private async Task StoreAsync(string siteId, string folder, CancellationToken cancellationToken)
    {
        var pacs = Pacs(siteId);
        var log = Path.Combine(logDirectory, $"storescu-{siteId}.log");
        await File.WriteAllTextAsync(log, string.Empty, cancellationToken);
        var code = await ScriptRunner.RunAsync("storescu", ["-aet", "STORESCU", "-aec", pacs.AeTitle, pacs.Host, pacs.DicomPort.ToString(CultureInfo.InvariantCulture), "+sd", folder], workDirectory, log, cancellationToken);

        // storescu may exit 0 with refused stores: its E:/F: lines say so.
        if (code != 0 || File.ReadLines(log).Any(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("F:", StringComparison.Ordinal)))
        {
            throw new LocalRunException($"storescu into {pacs.AeTitle} exited {code}: {ScriptRunner.Tail(log)} (log {log})");
        }
    }

    private SitePacs Pacs(string siteId) => stack.Sites.FirstOrDefault(p => p.SiteId == siteId)
        ?? throw new LocalRunException($"stack.json describes no PACS for site {siteId}");
}
