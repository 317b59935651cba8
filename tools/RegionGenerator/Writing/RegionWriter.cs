using System.Globalization;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Population;
using ServerlessImaging.RegionGenerator.Studies;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>Plans a region from a seed and writes its Part 10 files and manifest.json.</summary>
public static class RegionWriter
{
    /// <summary>The whole ground truth, before any file exists (files are filled in by <see cref="WriteAsync"/>).</summary>
    public static RegionManifest Plan(ulong seed, GenerationOptions options, IReadOnlyList<ManifestSite> sites)
    {
        ArgumentNullException.ThrowIfNull(options);
        var patients = PopulationBuilder.Build(seed, options);
        return new RegionManifest
        {
            Seed = seed,
            Options = new ManifestOptions
            {
                Profile = options.Profile,
                Patients = options.Patients,
                NearMisses = options.NearMisses,
                StudiesPerPatient = options.StudiesPerPatient.ToString(),
                SeriesPerStudy = options.SeriesPerStudy.ToString(),
                InstancesPerSeries = options.InstancesPerSeries.ToString(),
                Rows = options.Rows,
                Columns = options.Columns,
                Modalities = options.Modalities,
                SiteIds = options.SiteIds,
                CtPhantomSlices = options.CtPhantomSlices > 0 ? options.CtPhantomSlices : null,
            },
            Sites = sites,
            Patients = patients,
            Studies = WithCtPhantom(seed, options, patients, StudyPlanner.Plan(seed, options, patients)),
        };
    }

    // The phantom study goes to the first person that has studies (P0001, the married woman the near-misses shadow: the
    // patient tools/run-local registers), at the site of that person's first study, placed before it in the list so the
    // order of the person's other studies is unchanged.
    private static IReadOnlyList<ManifestStudy> WithCtPhantom(ulong seed, GenerationOptions options, IReadOnlyList<ManifestPatient> patients, IReadOnlyList<ManifestStudy> studies)
    {
        if (options.CtPhantomSlices <= 0)
        {
            return studies;
        }

        var first = patients.Select(p => (Patient: p, Index: studies.ToList().FindIndex(s => s.PatientKey == p.Key))).FirstOrDefault(p => p.Index >= 0);
        if (first.Patient is null)
        {
            return studies;
        }

        var list = studies.ToList();
        list.Insert(first.Index, CtPhantom.PlanStudy(seed, first.Patient, studies[first.Index].Sites[0], options.CtPhantomSlices));
        return list;
    }

    /// <summary>
    /// Writes every instance for every site holding it, then manifest.json. The directory must be empty,
    /// absent, or a previous region (it holds manifest.json): anything else is refused rather than overwritten.
    /// </summary>
    public static async Task<RegionManifest> WriteAsync(RegionManifest plan, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        PrepareDirectory(directory, plan);

        var patients = plan.Patients.ToDictionary(p => p.Key, StringComparer.Ordinal);
        var studies = new ManifestStudy[plan.Studies.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Studies.Count),
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            async (index, ct) => studies[index] = await WriteStudyAsync(plan.Studies[index], index, patients[plan.Studies[index].PatientKey], directory, ct));

        var manifest = plan with { Studies = studies };
        await RegionManifestFile.SaveAsync(manifest, directory, cancellationToken);
        return manifest;
    }

    private static async Task<ManifestStudy> WriteStudyAsync(ManifestStudy study, int studyIndex, ManifestPatient patient, string root, CancellationToken ct)
    {
        var series = new List<ManifestSeries>(study.Series.Count);
        foreach (var s in study.Series)
        {
            var salt = StableSalt(s.SeriesInstanceUid);
            var instances = new List<ManifestInstance>(s.Instances.Count);
            foreach (var instance in s.Instances)
            {
                var pixels = s.Pixels == CtPhantom.PixelsKind
                    ? CtPhantom.Create(instance.InstanceNumber, s.Instances.Count, salt)
                    : PixelPattern.Create(s.Rows, s.Columns, instance.InstanceNumber, s.Instances.Count, salt);
                var files = new List<ManifestFile>(study.Sites.Count);
                foreach (var site in study.Sites)
                {
                    var record = patient.RecordAt(site);
                    var relative = string.Create(CultureInfo.InvariantCulture,
                        $"{site}/{patient.Key}/st{studyIndex + 1:0000}/se{s.SeriesNumber:00}/{instance.InstanceNumber:00000}.dcm");
                    var path = Path.Combine(root, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    var bytes = await InstanceFileWriter.WriteAsync(path, patient, record, study, s, instance, pixels, ct);
                    files.Add(new ManifestFile { Site = site, Path = relative, Bytes = bytes });
                }
                instances.Add(instance with { Files = files });
            }
            series.Add(s with { Instances = instances });
        }
        return study with { Series = series };
    }

    private static int StableSalt(string uid)
    {
        var h = 17;
        foreach (var c in uid)
        {
            h = unchecked(h * 31 + c);
        }
        return h & 0x7FFFFFFF;
    }

    private static void PrepareDirectory(string directory, RegionManifest plan)
    {
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            if (!File.Exists(Path.Combine(directory, RegionManifestFile.FileName)))
            {
                throw new IOException($"'{directory}' is not empty and holds no {RegionManifestFile.FileName}; refusing to write a region over it.");
            }
            // A previous region: remove its site folders so storescu's directory scan sees only this region.
            foreach (var site in plan.Sites.Select(s => s.Id).Concat(Directory.EnumerateDirectories(directory).Select(Path.GetFileName).OfType<string>()).Distinct())
            {
                var siteDir = Path.Combine(directory, site);
                if (Directory.Exists(siteDir))
                {
                    Directory.Delete(siteDir, recursive: true);
                }
            }
            File.Delete(Path.Combine(directory, RegionManifestFile.FileName));
        }
        Directory.CreateDirectory(directory);
    }
}
