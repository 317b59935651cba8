using System.Globalization;
using ServerlessImaging.RegionGenerator.Determinism;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;

namespace ServerlessImaging.RegionGenerator.Population;

/// <summary>
/// Builds the persons of a region and their per-site patient records.
/// The first persons are hand-picked so even the tiny profile meets every identity trait real matching meets
/// (accents é è ê ë à ç ô î ï ù, hyphens, apostrophes, married names, spelling variants between sites);
/// the rest are drawn from the name pools; near-miss persons are then derived from some of them.
/// </summary>
public static class PopulationBuilder
{
    public const string InsTestIssuer = "1.2.250.1.213.1.4.10";

    private sealed record Featured(string BirthName, string UsageName, string FirstName, PatientSex Sex, bool Ins, NameSpelling? VariantAtSecondSite);

    // Index 3 and 8 are the bases of near-miss persons; see AddNearMisses.
    private static readonly Featured[] FeaturedPersons =
    [
        new("LEFÈVRE", "MARTIN-DUPONT", "Hélène", PatientSex.F, Ins: true, NameSpelling.SeparatorChanged),
        new("D'ARC", "D'ARC", "Jean-Pierre", PatientSex.M, Ins: false, null),
        new("N'DIAYE", "N'DIAYE", "Anaïs", PatientSex.F, Ins: true, null),
        new("FRANÇOIS", "FRANÇOIS", "Jérôme", PatientSex.M, Ins: true, NameSpelling.AccentsDropped),
        new("NOËL", "LÉVÊQUE", "Maïté", PatientSex.F, Ins: false, null),
        new("BENOÎT", "BENOÎT", "Loïc", PatientSex.M, Ins: true, NameSpelling.CaseChanged),
        new("CANTÙ", "DONÀ", "Françoise", PatientSex.F, Ins: false, null),
        new("CÔTÉ", "CÔTÉ", "Gaëlle", PatientSex.F, Ins: false, null),
        new("DUBOIS", "DUBOIS", "Dominique", PatientSex.F, Ins: false, null),
    ];

    private static readonly Dictionary<string, string> SiteIdPrefixes = new(StringComparer.Ordinal)
    {
        ["chu-nord"] = "CHN",
        ["clinique-sud"] = "CS-",
        ["ch-est"] = "E",
    };

    public static IReadOnlyList<ManifestPatient> Build(ulong seed, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rng = DeterministicRandom.ForPurpose(seed, "population");
        var ids = DeterministicRandom.ForPurpose(seed, "patient-ids");
        var persons = new List<Person>();

        for (var i = 0; i < options.Patients; i++)
        {
            persons.Add(i < FeaturedPersons.Length ? FromFeatured(FeaturedPersons[i], rng) : Random(rng));
        }
        if (options.NearMisses && persons.Count > 0)
        {
            AddNearMisses(persons, rng);
        }

        var sites = options.SiteIds;
        var charsetToggle = 0;
        var result = new List<ManifestPatient>(persons.Count);
        for (var i = 0; i < persons.Count; i++)
        {
            var p = persons[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"P{i + 1:0000}");
            var placement = p.NearMissOf is { } baseIndex ? persons[baseIndex].Sites! : PlaceAtSites(p, sites, rng);
            p.Sites = placement;
            var records = new List<ManifestPatientRecord>();
            for (var s = 0; s < placement.Count; s++)
            {
                var spelling = s == 1 && p.Variant is { } v ? v : NameSpelling.Canonical;
                var usage = NameSpellings.Apply(spelling, p.UsageName);
                var first = spelling == NameSpelling.AccentsDropped ? NameSpellings.DropAccents(p.FirstName) : p.FirstName;
                records.Add(new ManifestPatientRecord
                {
                    Site = placement[s],
                    PatientId = LocalPatientId(placement[s], ids),
                    PatientName = usage + "^" + first,
                    PatientBirthName = p.UsageName == p.BirthName ? null : NameSpellings.Apply(spelling, p.BirthName),
                    // Alternate so both encodings appear at every size and at each site over a few records.
                    SpecificCharacterSet = charsetToggle++ % 2 == 0 ? "ISO_IR 192" : "ISO_IR 100",
                    Spelling = spelling,
                });
            }
            result.Add(new ManifestPatient
            {
                Key = key,
                BirthName = p.BirthName,
                UsageName = p.UsageName,
                FirstName = p.FirstName,
                BirthDate = p.BirthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                Sex = p.Sex,
                Ins = p.HasIns ? new ManifestIns { Value = Ins(p, rng), Issuer = InsTestIssuer } : null,
                NearMiss = p.NearMissOf is { } of ? new ManifestNearMiss { Kind = p.NearMissKind!.Value, Of = string.Create(CultureInfo.InvariantCulture, $"P{of + 1:0000}") } : null,
                Records = records,
            });
        }
        return result;
    }

    private sealed class Person
    {
        public required string BirthName { get; init; }
        public required string UsageName { get; init; }
        public required string FirstName { get; init; }
        public required PatientSex Sex { get; init; }
        public required DateOnly BirthDate { get; init; }
        public required bool HasIns { get; init; }
        public NameSpelling? Variant { get; init; }
        public int? NearMissOf { get; init; }
        public NearMissKind? NearMissKind { get; init; }
        public IReadOnlyList<string>? Sites { get; set; }
    }

    private static Person FromFeatured(Featured f, DeterministicRandom rng) => new()
    {
        BirthName = f.BirthName, UsageName = f.UsageName, FirstName = f.FirstName, Sex = f.Sex,
        BirthDate = BirthDate(rng), HasIns = f.Ins, Variant = f.VariantAtSecondSite,
    };

    private static Person Random(DeterministicRandom rng)
    {
        var sex = rng.Chance(0.5) ? PatientSex.F : PatientSex.M;
        var birth = rng.Pick(FrenchNames.Family);
        var married = sex == PatientSex.F && rng.Chance(0.4);
        var usage = married ? rng.Pick(FrenchNames.Family) : birth;
        if (married && rng.Chance(0.3) && usage != birth)
        {
            usage = usage + "-" + birth; // double usage name (spouse's name then her own)
        }
        return new Person
        {
            BirthName = birth,
            UsageName = usage,
            FirstName = rng.Pick(sex == PatientSex.F ? FrenchNames.FemaleFirst : FrenchNames.MaleFirst),
            Sex = sex,
            BirthDate = BirthDate(rng),
            HasIns = rng.Chance(0.5),
        };
    }

    private static void AddNearMisses(List<Person> persons, DeterministicRandom rng)
    {
        // Homonyms: same names (including a married name) and another birth date.
        foreach (var baseIndex in new[] { Math.Min(3, persons.Count - 1), 0 }.Distinct())
        {
            var b = persons[baseIndex];
            persons.Add(new Person
            {
                BirthName = b.BirthName, UsageName = b.UsageName, FirstName = b.FirstName, Sex = b.Sex,
                BirthDate = b.BirthDate.AddDays(rng.Between(1, 4000) * (rng.Chance(0.5) ? 1 : -1)),
                HasIns = rng.Chance(0.5), NearMissOf = baseIndex, NearMissKind = NearMissKind.HomonymOtherBirthDate,
            });
        }
        // Same names and birth date, other sex: meaningful only with an epicene first name.
        var epiceneIndex = persons.FindIndex(p => FrenchNames.Epicene.Contains(p.FirstName) && p.NearMissOf is null);
        var other = epiceneIndex >= 0 ? epiceneIndex : persons.Count - 1;
        var o = persons[other];
        persons.Add(new Person
        {
            BirthName = o.BirthName, UsageName = o.UsageName, FirstName = o.FirstName,
            Sex = o.Sex == PatientSex.F ? PatientSex.M : PatientSex.F,
            BirthDate = o.BirthDate, HasIns = false, NearMissOf = other, NearMissKind = NearMissKind.SameBirthDateOtherSex,
        });
        // A twin of the first person (the one run-local registers): the near-miss a PACS answers to the broad query.
        var first = persons[0];
        var firstNames = (first.Sex == PatientSex.F ? FrenchNames.FemaleFirst : FrenchNames.MaleFirst).Where(n => n != first.FirstName).ToArray();
        persons.Add(new Person
        {
            BirthName = first.BirthName, UsageName = first.UsageName, FirstName = rng.Pick(firstNames), Sex = first.Sex,
            BirthDate = first.BirthDate, HasIns = false, NearMissOf = 0, NearMissKind = NearMissKind.TwinOtherFirstName,
        });
    }

    private static IReadOnlyList<string> PlaceAtSites(Person p, IReadOnlyList<string> sites, DeterministicRandom rng)
    {
        if (sites.Count == 0)
        {
            return [];
        }
        // Case variants go to dcmqrscp (second record), the PACS that does not fold case in C-FIND.
        if (p.Variant == NameSpelling.CaseChanged && sites.Contains("ch-est") && sites.Count >= 2)
        {
            return [rng.Pick(sites.Where(s => s != "ch-est").ToArray()), "ch-est"];
        }
        var home = rng.Pick(sites);
        var wantsSecond = p.Variant is not null || rng.Chance(0.35);
        if (!wantsSecond || sites.Count < 2)
        {
            return [home];
        }
        var second = rng.Pick(sites.Where(s => s != home).ToArray());
        return [home, second];
    }

    private static DateOnly BirthDate(DeterministicRandom rng) => new DateOnly(1935, 1, 1).AddDays(rng.Next(365 * 70));

    private static string LocalPatientId(string site, DeterministicRandom ids) =>
        (SiteIdPrefixes.TryGetValue(site, out var prefix) ? prefix : "X") + ids.Digits(10);

    /// <summary>INS-like matricule: sex, YYMM of birth, department, commune, order, then the key 97 - (n mod 97).</summary>
    private static string Ins(Person p, DeterministicRandom rng)
    {
        var department = rng.Between(1, 95);
        if (department == 20)
        {
            department = 21; // Corsica uses 2A/2B; keep the number purely numeric
        }
        var matricule = string.Create(CultureInfo.InvariantCulture,
            $"{(p.Sex == PatientSex.M ? 1 : 2)}{p.BirthDate.Year % 100:00}{p.BirthDate.Month:00}{department:00}{rng.Between(1, 990):000}{rng.Between(1, 999):000}");
        var key = 97 - (long.Parse(matricule, CultureInfo.InvariantCulture) % 97);
        return matricule + key.ToString("00", CultureInfo.InvariantCulture);
    }
}
