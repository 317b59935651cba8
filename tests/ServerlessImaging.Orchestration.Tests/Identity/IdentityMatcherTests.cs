using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Tests.Identity;

public class IdentityMatcherTests
{
    private static readonly DateOnly BirthDate = new(1958, 4, 12);

    // Our patient: birth name Lefèvre, usage name Martin, first name Hélène, 1958-04-12, F.
    private static readonly PatientIdentity Ours = Fixtures.Patient();

    private static readonly PatientIdentity OursWithoutUsage = Ours with { UsageName = null };

    private static PacsPatient Pacs(string? name, string? birthName = null, DateOnly? birthDate = null, string? sex = "F", string? patientId = "PID", string? issuer = null, params OtherPatientId[] others) =>
        new(name, birthName, patientId, issuer, birthDate ?? BirthDate, sex, others);

    private static IdentityComparison Compare(PacsPatient pacs, PatientIdentity? ours = null) => IdentityMatcher.Compare(ours ?? Ours, pacs);

    [Theory]
    [InlineData("MARTIN^HELENE", "LEFEVRE")] // usage name in PN, birth name apart
    [InlineData("LEFEVRE^HELENE", "LEFEVRE")] // birth name repeated in PN
    [InlineData("LEFEVRE^HELENE", null)] // only the birth name known
    [InlineData("MARTIN^HELENE", null)] // only the usage name known: it was given and agrees
    public void Family_name_rule_accepts_both_filings(string name, string? birthName) =>
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs(name, birthName)).Verdict);

    [Theory]
    [InlineData("lefèvre^hélène", null)]
    [InlineData("LEFÈVRE^HÉLÈNE", null)]
    [InlineData("Lefevre^Helene", null)]
    [InlineData("LEFEVRE^HELENE  ", "lefèvre")]
    public void Names_differing_only_by_accent_or_case_match_by_design(string name, string? birthName)
    {
        // The seeds: PACS differ in accent and case handling, so both are normalised away before the strict comparison.
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs(name, birthName)).Verdict);
    }

    [Fact]
    public void Hyphen_and_space_are_the_same_separator()
    {
        var ours = Ours with { FirstName = "Marie-Hélène", BirthName = "Saint-Just", UsageName = null };
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("SAINT JUST^MARIE HELENE"), ours).Verdict);
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("SAINT-JUST^MARIE-HELENE"), ours).Verdict);
    }

    [Fact]
    public void Apostrophes_are_separators()
    {
        var ours = Ours with { BirthName = "D'Arc", UsageName = null, FirstName = "Jeanne" };
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("D’ARC^JEANNE"), ours).Verdict);
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("D ARC^JEANNE"), ours).Verdict);
        Assert.Equal(NearMissKind.DifferentFamilyName, Compare(Pacs("DARC^JEANNE"), ours).NearMiss);
    }

    [Fact]
    public void First_name_may_be_given_plus_middle()
    {
        var ours = Ours with { FirstName = "Marie Hélène" };
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("MARTIN^MARIE^HELENE", "LEFEVRE"), ours).Verdict);
        Assert.Equal(NearMissKind.DifferentFirstName, Compare(Pacs("MARTIN^MARIE", "LEFEVRE"), ours).NearMiss);
    }

    [Fact]
    public void Same_names_and_another_birth_date_is_a_birth_date_near_miss()
    {
        var result = Compare(Pacs("MARTIN^HELENE", "LEFEVRE", birthDate: BirthDate.AddDays(1)));
        Assert.Equal(IdentityVerdict.NearMiss, result.Verdict);
        Assert.Equal(NearMissKind.DifferentBirthDate, result.NearMiss);
    }

    [Fact]
    public void Missing_birth_date_on_the_pacs_side_is_a_difference()
    {
        var pacs = Pacs("MARTIN^HELENE", "LEFEVRE") with { BirthDate = null };
        Assert.Equal(NearMissKind.DifferentBirthDate, Compare(pacs).NearMiss);
    }

    [Theory]
    [InlineData("M")]
    [InlineData("O")]
    [InlineData("")]
    [InlineData(null)]
    public void Same_birth_date_and_another_sex_is_a_sex_near_miss(string? sex) =>
        Assert.Equal(NearMissKind.DifferentSex, Compare(Pacs("MARTIN^HELENE", "LEFEVRE", sex: sex)).NearMiss);

    [Fact]
    public void Sex_code_is_trimmed_and_case_folded() =>
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("MARTIN^HELENE", "LEFEVRE", sex: "f ")).Verdict);

    [Fact]
    public void Another_first_name_is_a_first_name_near_miss() =>
        Assert.Equal(NearMissKind.DifferentFirstName, Compare(Pacs("MARTIN^HELENA", "LEFEVRE")).NearMiss);

    [Theory]
    [InlineData("DUPONT^HELENE", null)] // neither of our names
    [InlineData("MARTIN^HELENE", "DUPONT")] // PACS birth name is not ours
    [InlineData("^HELENE", null)] // no family name at all
    public void Another_family_name_is_a_family_name_near_miss(string name, string? birthName) =>
        Assert.Equal(NearMissKind.DifferentFamilyName, Compare(Pacs(name, birthName)).NearMiss);

    [Fact]
    public void Birth_vs_usage_name_without_a_usage_name_on_our_side()
    {
        // We only know the birth name; a PACS filing a (usage) name we do not know differs.
        Assert.Equal(NearMissKind.DifferentFamilyName, Compare(Pacs("MARTIN^HELENE", null), OursWithoutUsage).NearMiss);

        // The PACS's birth name confirms ours; its PN family name is a usage name we were not given: still a difference.
        Assert.Equal(NearMissKind.DifferentFamilyName, Compare(Pacs("MARTIN^HELENE", "LEFEVRE"), OursWithoutUsage).NearMiss);
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("LEFEVRE^HELENE", "LEFEVRE"), OursWithoutUsage).Verdict);
    }

    [Fact]
    public void Usage_name_in_the_birth_name_slot_differs()
    {
        // Birth Name must hold the birth name: a PACS that put the usage name there describes someone else's birth.
        Assert.Equal(NearMissKind.DifferentFamilyName, Compare(Pacs("MARTIN^HELENE", "MARTIN")).NearMiss);
    }

    [Fact]
    public void Two_differing_traits_make_an_unrelated_patient()
    {
        var result = Compare(Fixtures.PacsPatientOther());
        Assert.Equal(IdentityVerdict.Unrelated, result.Verdict);
        Assert.Null(result.NearMiss);
        Assert.Equal(TraitDifferences.FamilyName | TraitDifferences.FirstName, result.Differences);
    }

    [Fact]
    public void Same_ins_decides_a_match_even_when_a_trait_differs()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        var pacs = Pacs("MARTIN^HELENA", "LEFEVRE", others: new OtherPatientId(Fixtures.ValidNir, Ins.ProductionOid, "INS-NIR"));
        var result = Compare(pacs, ours);
        Assert.Equal(IdentityVerdict.Match, result.Verdict);
        Assert.True(result.DecidedByIns);
    }

    [Fact]
    public void Ins_as_patient_id_with_its_issuer_is_used()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        var result = Compare(Pacs("MARTIN^HELENE", "LEFEVRE", patientId: Fixtures.ValidCorsicanNir, issuer: Ins.ProductionOid), ours);
        Assert.Equal(NearMissKind.InsMismatch, result.NearMiss);
    }

    [Fact]
    public void Different_ins_is_an_ins_mismatch_even_when_every_trait_agrees()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        var pacs = Pacs("MARTIN^HELENE", "LEFEVRE", others: new OtherPatientId(Fixtures.ValidCorsicanNir, Ins.ProductionOid, null));
        var result = Compare(pacs, ours);
        Assert.Equal(IdentityVerdict.NearMiss, result.Verdict);
        Assert.Equal(NearMissKind.InsMismatch, result.NearMiss);
        Assert.Equal(TraitDifferences.None, result.Differences);
    }

    [Fact]
    public void Test_ins_never_equals_production_ins()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        var pacs = Pacs("MARTIN^HELENE", "LEFEVRE", others: new OtherPatientId(Fixtures.ValidNir, Ins.TestOid, null));
        Assert.Equal(NearMissKind.InsMismatch, Compare(pacs, ours).NearMiss);
    }

    [Fact]
    public void Ins_on_one_side_only_falls_back_to_traits()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        Assert.Equal(IdentityVerdict.Match, Compare(Pacs("MARTIN^HELENE", "LEFEVRE"), ours).Verdict);

        var pacsWithIns = Pacs("MARTIN^HELENE", "LEFEVRE", others: new OtherPatientId(Fixtures.ValidNir, Ins.ProductionOid, null));
        Assert.Equal(IdentityVerdict.Match, Compare(pacsWithIns).Verdict);
        Assert.False(Compare(pacsWithIns).DecidedByIns);
    }

    [Fact]
    public void Other_ids_of_other_issuers_are_not_ins()
    {
        var ours = Ours with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) };
        var pacs = Pacs("MARTIN^HELENE", "LEFEVRE", others: new OtherPatientId(Fixtures.ValidCorsicanNir, "1.2.250.1.71.4.2.1", null));
        Assert.Equal(IdentityVerdict.Match, Compare(pacs, ours).Verdict);
    }
}
