using System.Globalization;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Population;
using ServerlessImaging.RegionGenerator.Sites;
using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.Stack.Tests.Generator;

/// <summary>Pure checks of the planned region (no files, no PACS): the tiny profile meets every identity trait matching must handle.</summary>
public sealed class RegionPopulationTests
{
    private static RegionManifest TinyPlan(ulong seed) =>
        RegionWriter.Plan(seed, GenerationProfiles.Get("tiny", RegionSites.DefaultIds), RegionSites.Defaults);

    public static TheoryData<ulong> Seeds => [1UL, 42UL, 987654321UL];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Tiny_region_contains_every_near_miss_kind_and_spelling_variant(ulong seed)
    {
        var region = TinyPlan(seed);

        foreach (var kind in Enum.GetValues<NearMissKind>())
        {
            Assert.Contains(region.Patients, p => p.NearMiss?.Kind == kind);
        }
        foreach (var spelling in Enum.GetValues<NameSpelling>())
        {
            Assert.Contains(region.Patients.SelectMany(p => p.Records), r => r.Spelling == spelling);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Near_miss_persons_differ_from_their_model_by_exactly_the_trait_their_kind_names(ulong seed)
    {
        var region = TinyPlan(seed);
        foreach (var p in region.Patients.Where(p => p.NearMiss is not null))
        {
            var model = region.Patient(p.NearMiss!.Of);
            Assert.Equal((model.BirthName, model.UsageName), (p.BirthName, p.UsageName));
            switch (p.NearMiss.Kind)
            {
                case NearMissKind.HomonymOtherBirthDate:
                    Assert.Equal(model.FirstName, p.FirstName);
                    Assert.NotEqual(model.BirthDate, p.BirthDate);
                    Assert.Equal(model.Sex, p.Sex);
                    break;
                case NearMissKind.SameBirthDateOtherSex:
                    Assert.Equal(model.FirstName, p.FirstName);
                    Assert.Equal(model.BirthDate, p.BirthDate);
                    Assert.NotEqual(model.Sex, p.Sex);
                    break;
                case NearMissKind.TwinOtherFirstName:
                    Assert.NotEqual(model.FirstName, p.FirstName);
                    Assert.Equal(model.BirthDate, p.BirthDate);
                    Assert.Equal(model.Sex, p.Sex);
                    break;
                default:
                    Assert.Fail("unexpected near-miss kind " + p.NearMiss.Kind);
                    break;
            }
            // Same PACS as the person it resembles, so a broad query there returns both.
            Assert.Contains(p.Records[0].Site, model.Records.Select(r => r.Site));
        }
    }

    [Fact]
    public void Names_carry_every_french_diacritic_hyphens_apostrophes_and_married_names()
    {
        var region = TinyPlan(7);
        var allNames = string.Concat(region.Patients.Select(p => p.BirthName + p.UsageName + p.FirstName)).ToLowerInvariant();
        foreach (var letter in "éèêëàçôîïù")
        {
            Assert.Contains(letter, allNames);
        }
        Assert.Contains(region.Patients, p => p.FirstName.Contains('-', StringComparison.Ordinal));
        Assert.Contains(region.Patients, p => p.UsageName.Contains('-', StringComparison.Ordinal));
        Assert.Contains(region.Patients, p => p.BirthName.Contains('\'', StringComparison.Ordinal));
        var married = region.Patients.Where(p => p.HasDistinctUsageName).ToList();
        Assert.NotEmpty(married);
        // Usage name is PatientName's family component, birth name is PatientBirthName, at every site.
        foreach (var p in married)
        {
            foreach (var r in p.Records.Where(r => r.Spelling == NameSpelling.Canonical))
            {
                Assert.Equal(p.UsageName + "^" + p.FirstName, r.PatientName);
                Assert.Equal(p.BirthName, r.PatientBirthName);
            }
        }
    }

    [Fact]
    public void Spelling_variants_are_the_same_person_written_differently_at_a_second_site()
    {
        var region = TinyPlan(11);
        foreach (var p in region.Patients)
        {
            var canonical = p.Records.Where(r => r.Spelling == NameSpelling.Canonical).ToList();
            foreach (var variant in p.Records.Where(r => r.Spelling != NameSpelling.Canonical))
            {
                Assert.NotEmpty(canonical);
                Assert.NotEqual(canonical[0].PatientName, variant.PatientName);
                Assert.Equal(Fold(canonical[0].PatientName), Fold(variant.PatientName));
                Assert.NotEqual(canonical[0].Site, variant.Site);
            }
        }
        // The case variant sits in dcmqrscp, the PACS that does not fold case.
        Assert.Contains(region.Patients.SelectMany(p => p.Records), r => r is { Spelling: NameSpelling.CaseChanged, Site: "ch-est" });

        static string Fold(string name) => NameSpellings.DropAccents(name).ToUpperInvariant().Replace('-', ' ');
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Studies_cover_all_modalities_both_charsets_a_shared_study_ins_and_years(ulong seed)
    {
        var region = TinyPlan(seed);

        Assert.Equal(GenerationProfiles.AllModalities.Order(StringComparer.Ordinal), region.Studies.SelectMany(s => s.Modalities).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(region.Studies, s => s.Sites.Count == 2);
        var shared = region.Studies.First(s => s.Sites.Count == 2);
        var owner = region.Patient(shared.PatientKey);
        Assert.All(shared.Sites, site => Assert.Contains(site, owner.Records.Select(r => r.Site)));

        Assert.Equal(["ISO_IR 100", "ISO_IR 192"], region.Patients.SelectMany(p => p.Records).Select(r => r.SpecificCharacterSet).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(region.Patients, p => p.Ins is { Issuer: PopulationBuilder.InsTestIssuer });
        Assert.Contains(region.Patients, p => p.Ins is null);
        Assert.All(region.Patients.Where(p => p.Ins is not null), p => Assert.True(InsKeyIsValid(p.Ins!.Value), "INS key"));

        var years = region.Studies.Select(s => int.Parse(s.StudyDate[..4], CultureInfo.InvariantCulture)).ToList();
        Assert.True(years.Max() - years.Min() >= 3, $"study years span {years.Min()}-{years.Max()}");

        // Local patient IDs are per site: one person never has the same ID at two PACS, no two records share one.
        var ids = region.Patients.SelectMany(p => p.Records).Select(r => r.PatientId).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Every_uid_is_a_valid_2_25_uid_and_unique()
    {
        var region = TinyPlan(3);
        var uids = region.Studies.SelectMany(s => s.Series.SelectMany(se => se.Instances.Select(i => i.SopInstanceUid).Append(se.SeriesInstanceUid)).Append(s.StudyInstanceUid)).ToList();
        Assert.Equal(uids.Count, uids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(uids, uid =>
        {
            Assert.StartsWith("2.25.", uid, StringComparison.Ordinal);
            Assert.InRange(uid.Length, 6, 64);
            Assert.Matches("^2\\.25\\.[1-9][0-9]*$", uid);
        });
    }

    [Fact]
    public void Another_seed_gives_other_uids_and_patient_ids()
    {
        var a = TinyPlan(100);
        var b = TinyPlan(101);
        Assert.Empty(a.Studies.Select(s => s.StudyInstanceUid).Intersect(b.Studies.Select(s => s.StudyInstanceUid)));
        Assert.Empty(a.Patients.SelectMany(p => p.Records).Select(r => r.PatientId).Intersect(b.Patients.SelectMany(p => p.Records).Select(r => r.PatientId)));
    }

    private static bool InsKeyIsValid(string ins) =>
        ins.Length == 15 && 97 - long.Parse(ins[..13], CultureInfo.InvariantCulture) % 97 == long.Parse(ins[13..], CultureInfo.InvariantCulture);
}
