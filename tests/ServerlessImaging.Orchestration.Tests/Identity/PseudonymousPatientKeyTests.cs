using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Tests.Identity;

public class PseudonymousPatientKeyTests
{
    private static readonly byte[] Secret = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    [Fact]
    public void Key_has_the_documented_shape_and_hides_the_traits()
    {
        var key = PseudonymousPatientKey.Compute(Fixtures.Patient(), Secret);
        Assert.Matches("^pk1-[0-9a-f]{32}$", key);
        Assert.DoesNotContain("LEFEVRE", key, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Any_strong_trait_change_changes_the_key()
    {
        var p = Fixtures.Patient();
        var key = PseudonymousPatientKey.Compute(p, Secret);
        Assert.NotEqual(key, PseudonymousPatientKey.Compute(p with { BirthName = "Lefebvre" }, Secret));
        Assert.NotEqual(key, PseudonymousPatientKey.Compute(p with { FirstName = "Helena" }, Secret));
        Assert.NotEqual(key, PseudonymousPatientKey.Compute(p with { BirthDate = p.BirthDate.AddDays(1) }, Secret));
        Assert.NotEqual(key, PseudonymousPatientKey.Compute(p with { Sex = PatientSex.Male }, Secret));
    }

    [Fact]
    public void Usage_name_and_ins_do_not_change_the_key()
    {
        var p = Fixtures.Patient();
        var key = PseudonymousPatientKey.Compute(p, Secret);
        Assert.Equal(key, PseudonymousPatientKey.Compute(p with { UsageName = null }, Secret));
        Assert.Equal(key, PseudonymousPatientKey.Compute(p with { Ins = new Ins(Fixtures.ValidNir, Ins.ProductionOid) }, Secret));
    }

    [Fact]
    public void Short_secret_is_refused() =>
        Assert.Throws<ArgumentException>(() => PseudonymousPatientKey.Compute(Fixtures.Patient(), new byte[16]));
}
