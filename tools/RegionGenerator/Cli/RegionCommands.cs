using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.RegionGenerator.Loading;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Sites;
using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.RegionGenerator.Cli;

/// <summary>The command line: <c>generate</c> (optionally <c>--load</c>) and <c>load</c>.</summary>
public static class RegionCommands
{
    public static RootCommand Build()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed: same seed and options give byte-identical files and manifest.", DefaultValueFactory = _ => 1 };
        var profile = new Option<string>("--profile") { Description = "tiny | small | realistic", DefaultValueFactory = _ => "tiny" };
        profile.AcceptOnlyFromAmong([.. GenerationProfiles.Names]);
        var patients = new Option<int?>("--patients") { Description = "Ordinary persons (near-miss persons are added on top)." };
        var nearMisses = new Option<bool?>("--near-misses") { Description = "Add homonym / other-sex near-miss persons (default true)." };
        var studies = new Option<string?>("--studies-per-patient") { Description = "Count or range, e.g. 2 or 1-3." };
        var series = new Option<string?>("--series-per-study") { Description = "Count or range." };
        var instances = new Option<string?>("--instances-per-series") { Description = "Count or range." };
        var imageSize = new Option<int?>("--image-size") { Description = "Rows and columns (square images)." };
        var modalities = new Option<string?>("--modalities") { Description = "Comma-separated subset of AU CR CT DX ES MG MR NM OT PT RF RT SC SR US VL XA XC." };
        var sites = new Option<string?>("--sites") { Description = "Comma-separated site ids (default: chu-nord,clinique-sud,ch-est)." };
        var output = new Option<string?>("--out") { Description = "Output directory (default .local/region/<seed>)." };
        var load = new Option<bool>("--load") { Description = "After generating, C-STORE the files into each site PACS." };
        var stack = new Option<string?>("--stack") { Description = "stack.json with site endpoints (default .local/stack/stack.json if present)." };
        var callingAe = new Option<string>("--calling-ae") { Description = "Calling AE title for storescu.", DefaultValueFactory = _ => "SI_TEST" };
        var ctPhantom = new Option<int?>("--ct-phantom") { Description = "Slices of a 512x512 chest CT phantom study given to the first person (P0001); 0 or absent: none." };

        var generate = new Command("generate", "Generate a region's DICOM files and manifest.json.")
        {
            seed, profile, patients, nearMisses, studies, series, instances, imageSize, modalities, sites, output, load, stack, callingAe, ctPhantom,
        };
        generate.SetAction(async (parse, ct) =>
        {
            var siteIds = SplitList(parse.GetValue(sites)) ?? RegionSites.DefaultIds;
            var baseline = GenerationProfiles.Get(parse.GetValue(profile)!, siteIds);
            var size = parse.GetValue(imageSize);
            var options = baseline with
            {
                Patients = parse.GetValue(patients) ?? baseline.Patients,
                NearMisses = parse.GetValue(nearMisses) ?? baseline.NearMisses,
                StudiesPerPatient = Range(parse.GetValue(studies)) ?? baseline.StudiesPerPatient,
                SeriesPerStudy = Range(parse.GetValue(series)) ?? baseline.SeriesPerStudy,
                InstancesPerSeries = Range(parse.GetValue(instances)) ?? baseline.InstancesPerSeries,
                Rows = size ?? baseline.Rows,
                Columns = size ?? baseline.Columns,
                Modalities = SplitList(parse.GetValue(modalities)) ?? baseline.Modalities,
                CtPhantomSlices = parse.GetValue(ctPhantom) ?? baseline.CtPhantomSlices,
            };
            Validate(options);
            var seedValue = parse.GetValue(seed);
            var directory = Path.GetFullPath(parse.GetValue(output) ?? RepositoryPaths.DefaultRegionDirectory(seedValue));
            var resolvedSites = RegionSites.Resolve(siteIds, parse.GetValue(stack) ?? RepositoryPaths.StackJson());

            var clock = Stopwatch.StartNew();
            var plan = RegionWriter.Plan(seedValue, options, resolvedSites);
            var manifest = await RegionWriter.WriteAsync(plan, directory, ct);
            clock.Stop();
            var files = manifest.Studies.SelectMany(s => s.Series).SelectMany(s => s.Instances).SelectMany(i => i.Files).ToList();
            Console.WriteLine(Invariant($"generated seed {seedValue} profile {options.Profile}: {manifest.Patients.Count} patients, {manifest.Studies.Count} studies, {files.Count} files, {files.Sum(f => f.Bytes) / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F2} s"));
            Console.WriteLine(Invariant($"manifest: {Path.Combine(directory, RegionManifestFile.FileName)}"));
            if (parse.GetValue(load))
            {
                await LoadAsync(manifest, directory, parse.GetValue(callingAe)!, ct);
            }
            return 0;
        });

        var region = new Option<string?>("--region") { Description = "Region directory or manifest.json (default .local/region/<seed>)." };
        var loadCommand = new Command("load", "C-STORE a generated region into its site PACS (dcmtk storescu).") { seed, region, stack, callingAe };
        loadCommand.SetAction(async (parse, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(region) ?? RepositoryPaths.DefaultRegionDirectory(parse.GetValue(seed)));
            var manifest = await RegionManifestFile.LoadAsync(path, ct);
            var directory = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
            // Endpoints may have moved since generation: take the current stack.json when there is one.
            var current = RegionSites.Resolve([.. manifest.Sites.Select(s => s.Id)], parse.GetValue(stack) ?? RepositoryPaths.StackJson());
            await LoadAsync(manifest with { Sites = current }, directory, parse.GetValue(callingAe)!, ct);
            return 0;
        });

        var root = new RootCommand("Deterministic synthetic region (patients, studies, site PACS) with a ground-truth manifest.") { generate, loadCommand };
        return root;
    }

    private static async Task LoadAsync(RegionManifest manifest, string directory, string callingAe, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var results = await new StorescuLoader(callingAe).LoadAsync(manifest, directory, ct);
        foreach (var r in results)
        {
            Console.WriteLine(Invariant($"loaded {r.Site}: {r.Instances} instances in {r.Elapsed.TotalSeconds:F2} s ({r.Instances / Math.Max(r.Elapsed.TotalSeconds, 1e-6):F0}/s)"));
        }
        Console.WriteLine(Invariant($"load total: {results.Sum(r => r.Instances)} instances in {clock.Elapsed.TotalSeconds:F2} s"));
    }

    private static void Validate(GenerationOptions options)
    {
        var unknown = options.Modalities.Except(GenerationProfiles.AllModalities).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown modalities: {string.Join(", ", unknown)}.");
        }
        if (options.Patients < 0 || options.Rows is < 1 or > 4096 || options.Modalities.Count == 0 || options.CtPhantomSlices is < 0 or > 500)
        {
            throw new ArgumentException("--patients must be >= 0, --image-size within 1..4096, --ct-phantom within 0..500, and at least one modality given.");
        }
    }

    private static CountRange? Range(string? text) => text is null ? null : CountRange.Parse(text);

    private static string[]? SplitList(string? text) =>
        text is null ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
