using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.RegionGenerator.Loading;

/// <summary>Result of loading one site: how many instances the PACS acknowledged and how long it took.</summary>
public sealed record SiteLoadResult(string Site, int Instances, TimeSpan Elapsed);

/// <summary>
/// Sends a generated region into its site PACS with dcmtk's storescu, one association per site
/// (directory scan, so thousands of files share an association). Interim until our own DIMSE SCU exists.
/// storescu's exit code alone is not trusted: every file must get a Success store response.
/// </summary>
public sealed class StorescuLoader(string callingAeTitle = "SI_TEST", string storescuPath = "storescu")
{
    public async Task<IReadOnlyList<SiteLoadResult>> LoadAsync(RegionManifest manifest, string regionDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var results = new List<SiteLoadResult>();
        foreach (var site in manifest.Sites)
        {
            var expected = manifest.StudiesAt(site.Id).Sum(s => s.InstanceCount);
            if (expected == 0)
            {
                continue;
            }
            var directory = Path.Combine(regionDirectory, site.Id);
            if (!Directory.Exists(directory))
            {
                throw new RegionLoadException(site.Id, $"expected {expected} files under '{directory}' but the directory does not exist (run generate first).");
            }
            results.Add(await LoadSiteAsync(site, directory, expected, cancellationToken));
        }
        return results;
    }

    private async Task<SiteLoadResult> LoadSiteAsync(ManifestSite site, string directory, int expected, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(storescuPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TCP_NODELAY"] = "1";
        foreach (var arg in new[] { "-v", "-aet", callingAeTitle, "-aec", site.AeTitle, "+sd", "+r", site.Host, site.DicomPort.ToString(CultureInfo.InvariantCulture), directory })
        {
            psi.ArgumentList.Add(arg);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new RegionLoadException(site.Id, $"cannot start '{storescuPath}' ({ex.Message}); install dcmtk (apt-get install dcmtk).", ex);
        }

        var tally = new StoreResponseTally();
        var stdout = PumpAsync(process.StandardOutput, tally);
        var stderr = PumpAsync(process.StandardError, tally);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(stdout, stderr);
        stopwatch.Stop();

        if (process.ExitCode != 0 || tally.Successes != expected || tally.Failures > 0)
        {
            throw new RegionLoadException(site.Id,
                $"storescu to {site.AeTitle}@{site.Host}:{site.DicomPort} exited {process.ExitCode}: {tally.Successes}/{expected} stored, " +
                $"{tally.Failures} failed or warned. Last messages:{Environment.NewLine}{tally.Tail()}");
        }
        return new SiteLoadResult(site.Id, tally.Successes, stopwatch.Elapsed);
    }

    private static async Task PumpAsync(StreamReader reader, StoreResponseTally tally)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            tally.Observe(line);
        }
    }

    /// <summary>Counts store responses in storescu's verbose log; keeps the last lines for error messages (no patient data is logged there).</summary>
    private sealed class StoreResponseTally
    {
        private readonly Queue<string> _tail = new();
        private readonly Lock _gate = new();
        public int Successes { get; private set; }
        public int Failures { get; private set; }

        public void Observe(string line)
        {
            lock (_gate)
            {
                if (line.Contains("Received Store Response", StringComparison.Ordinal))
                {
                    if (line.Contains("(Success)", StringComparison.Ordinal))
                    {
                        Successes++;
                    }
                    else
                    {
                        Failures++;
                    }
                }
                if (line.StartsWith("E:", StringComparison.Ordinal) || line.StartsWith("F:", StringComparison.Ordinal) || line.StartsWith("W:", StringComparison.Ordinal) || !line.Contains("Store", StringComparison.Ordinal))
                {
                    _tail.Enqueue(line);
                    while (_tail.Count > 15)
                    {
                        _tail.Dequeue();
                    }
                }
            }
        }

        public string Tail()
        {
            lock (_gate)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }
}

public sealed class RegionLoadException : Exception
{
    public RegionLoadException(string site, string message, Exception? inner = null) : base($"Loading site '{site}' failed: {message}", inner)
    {
        Site = site;
    }

    public RegionLoadException() { }
    public RegionLoadException(string message) : base(message) { }
    public RegionLoadException(string message, Exception inner) : base(message, inner) { }

    public string Site { get; } = "";
}
