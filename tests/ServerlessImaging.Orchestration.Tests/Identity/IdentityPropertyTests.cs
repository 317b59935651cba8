using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Tests.Identity;

public class IdentityPropertyTests
{
    private static readonly string[] Syllables = ["LE", "FE", "VRE", "MAR", "TIN", "DU", "PONT", "HE", "LÈ", "NE", "ZOÉ", "ÇA", "JEAN", "D'", "ANN", "ŒU"];

    private static Gen<string> NameGen() =>
        Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Gen.Elements(Syllables), n)).Select(parts => string.Concat(parts));

    private static Gen<PatientIdentity> PatientGen() =>
        from birth in NameGen()
        from hasUsage in Gen.Elements(true, false)
        from usage in NameGen()
        from first in NameGen()
        from days in Gen.Choose(0, 40_000)
        from sex in Gen.Elements(PatientSex.Female, PatientSex.Male, PatientSex.Other)
        select new PatientIdentity(birth, hasUsage ? usage : null, first, new DateOnly(1900, 1, 1).AddDays(days), sex, null);

    /// <summary>Rewrites a name the way PACS and users do: case, accents dropped, hyphens for spaces and back.</summary>
    private static Gen<string> VariantOf(string name) =>
        Gen.Elements<Func<string, string>>(
            s => s.ToLowerInvariant(),
            s => s.ToUpperInvariant(),
            s => new string(s.Normalize(System.Text.NormalizationForm.FormD).Where(c => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark).ToArray()),
            s => s.Replace(' ', '-'),
            s => " " + s.Replace("'", "’", StringComparison.Ordinal) + " ")
        .Select(f => f(name));

    private static PacsPatient AsPacs(PatientIdentity p, string family, string given, string? birthName) =>
        new($"{family}^{given}", birthName, "PID", null, p.BirthDate, p.SexCode, []);

    [Property(MaxTest = 300)]
    public Property A_patient_always_matches_itself_under_any_spelling_variant() =>
        Prop.ForAll(
            (from p in PatientGen()
             from family in VariantOf(p.UsageName ?? p.BirthName)
             from given in VariantOf(p.FirstName)
             from birth in VariantOf(p.BirthName)
             select (p, AsPacs(p, family, given, birth))).ToArbitrary(),
            pair => IdentityMatcher.Compare(pair.p, pair.Item2).Verdict == IdentityVerdict.Match);

    [Property(MaxTest = 300)]
    public Property Changing_exactly_one_trait_yields_that_near_miss_kind() =>
        Prop.ForAll(
            (from p in PatientGen()
             from which in Gen.Choose(0, 3)
             select (p, which)).ToArbitrary(),
            input =>
            {
                var (p, which) = input;
                var pacs = AsPacs(p, p.BirthName, p.FirstName, null);
                NearMissKind expected;
                switch (which)
                {
                    case 0:
                        pacs = pacs with { BirthDate = p.BirthDate.AddDays(1) };
                        expected = NearMissKind.DifferentBirthDate;
                        break;
                    case 1:
                        pacs = pacs with { Sex = p.Sex == PatientSex.Female ? "M" : "F" };
                        expected = NearMissKind.DifferentSex;
                        break;
                    case 2:
                        pacs = pacs with { PatientName = $"{p.BirthName}^{p.FirstName}X" };
                        expected = NearMissKind.DifferentFirstName;
                        break;
                    default:
                        pacs = pacs with { PatientName = $"{p.BirthName}X^{p.FirstName}" };
                        expected = NearMissKind.DifferentFamilyName;
                        break;
                }

                // A usage name equal to the altered family name would legitimately match; the generator's X suffix avoids it.
                return IdentityMatcher.Compare(p, pacs).NearMiss == expected;
            });

    [Property(MaxTest = 300)]
    public Property Normalisation_is_idempotent_and_yields_only_upper_ascii_letters_digits_and_single_spaces() =>
        Prop.ForAll<string>(
            s =>
            {
                var once = NameNormalizer.Normalize(s);
                var twice = NameNormalizer.Normalize(once);
                var shapeOk = !once.StartsWith(' ') && !once.EndsWith(' ') && !once.Contains("  ", StringComparison.Ordinal)
                    && once.All(c => c == ' ' || char.IsDigit(c) || !char.IsLower(c));
                return once == twice && shapeOk;
            });

    [Property(MaxTest = 200)]
    public Property Pseudonymous_key_ignores_spelling_variants_and_depends_on_the_secret() =>
        Prop.ForAll(
            (from p in PatientGen()
             from variant in VariantOf(p.BirthName)
             select (p, variant)).ToArbitrary(),
            input =>
            {
                var secretA = Enumerable.Repeat((byte)1, 32).ToArray();
                var secretB = Enumerable.Repeat((byte)2, 32).ToArray();
                var key = PseudonymousPatientKey.Compute(input.p, secretA);
                return key == PseudonymousPatientKey.Compute(input.p with { BirthName = input.variant }, secretA)
                    && key != PseudonymousPatientKey.Compute(input.p, secretB);
            });
}
