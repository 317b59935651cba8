using System.Globalization;
using ServerlessImaging.RegionGenerator.Determinism;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Population;

namespace ServerlessImaging.RegionGenerator.Studies;

/// <summary>
/// Plans every study, series and instance (UIDs, dates, modalities) before any file is written.
/// Series modalities are dealt from a shuffled deck of the modality list, so every modality appears
/// once there are at least as many series as modalities.
/// </summary>
public static class StudyPlanner
{
    private static readonly DateOnly FirstStudyDay = new(2010, 1, 1);
    private const int StudyDaySpan = 16 * 365; // 2010 to end of 2025: dates spread over years

    public static IReadOnlyList<ManifestStudy> Plan(ulong seed, GenerationOptions options, IReadOnlyList<ManifestPatient> patients)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(patients);
        var rng = DeterministicRandom.ForPurpose(seed, "studies");
        var uids = new DeterministicUids(seed);
        var deck = new ModalityDeck(options.Modalities, rng);
        var studies = new List<ManifestStudy>();
        var sharedPlaced = false;

        foreach (var patient in patients)
        {
            var sites = patient.Records.Select(r => r.Site).ToArray();
            if (sites.Length == 0)
            {
                continue;
            }
            var count = rng.Between(options.StudiesPerPatient.Min, options.StudiesPerPatient.Max);
            for (var s = 0; s < count; s++)
            {
                var label = string.Create(CultureInfo.InvariantCulture, $"{patient.Key}/study/{s + 1}");
                // The first study of the first multi-site patient is held by two sites (same UIDs), then now and then.
                var shared = sites.Length > 1 && ((!sharedPlaced && s == 0) || rng.Chance(0.15));
                sharedPlaced |= shared;
                string[] studySites = shared ? [.. sites.Take(2)] : [rng.Pick(sites)];

                var seriesCount = rng.Between(options.SeriesPerStudy.Min, options.SeriesPerStudy.Max);
                var series = new List<ManifestSeries>(seriesCount);
                for (var n = 1; n <= seriesCount; n++)
                {
                    var modality = deck.Deal();
                    var instanceCount = rng.Between(options.InstancesPerSeries.Min, options.InstancesPerSeries.Max);
                    var seriesLabel = string.Create(CultureInfo.InvariantCulture, $"{label}/series/{n}");
                    series.Add(new ManifestSeries
                    {
                        SeriesInstanceUid = uids.For(seriesLabel),
                        SeriesNumber = n,
                        Modality = modality,
                        Description = ModalityCatalog.SeriesDescriptionFor(modality, n),
                        SopClassUid = ModalityCatalog.SopClassFor(modality),
                        Rows = options.Rows,
                        Columns = options.Columns,
                        BitsAllocated = 16,
                        Instances = [.. Enumerable.Range(1, instanceCount).Select(i => new ManifestInstance
                        {
                            SopInstanceUid = uids.For(string.Create(CultureInfo.InvariantCulture, $"{seriesLabel}/instance/{i}")),
                            InstanceNumber = i,
                        })],
                    });
                }

                var birth = DateOnly.ParseExact(patient.BirthDate, "yyyyMMdd", CultureInfo.InvariantCulture);
                var earliest = birth > FirstStudyDay ? birth : FirstStudyDay;
                var date = earliest.AddDays(rng.Next(Math.Max(1, FirstStudyDay.AddDays(StudyDaySpan).DayNumber - earliest.DayNumber)));
                var time = new TimeOnly(rng.Between(7, 19), rng.Next(60), rng.Next(60));
                studies.Add(new ManifestStudy
                {
                    StudyInstanceUid = uids.For(label),
                    PatientKey = patient.Key,
                    Sites = studySites,
                    StudyDate = date.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                    StudyTime = time.ToString("HHmmss", CultureInfo.InvariantCulture),
                    AccessionNumber = "A" + rng.Digits(12),
                    StudyId = rng.Digits(6),
                    Description = ModalityCatalog.StudyDescriptionFor(series[0].Modality),
                    ReferringPhysicianName = rng.Pick(FrenchNames.Physicians),
                    Modalities = [.. series.Select(x => x.Modality).Distinct().Order(StringComparer.Ordinal)],
                    Series = series,
                });
            }
        }
        return studies;
    }

    private sealed class ModalityDeck(IReadOnlyList<string> modalities, DeterministicRandom rng)
    {
        private readonly Queue<string> _cards = new();

        public string Deal()
        {
            if (_cards.Count == 0)
            {
                foreach (var m in rng.Shuffled(modalities))
                {
                    _cards.Enqueue(m);
                }
            }
            return _cards.Dequeue();
        }
    }
}
