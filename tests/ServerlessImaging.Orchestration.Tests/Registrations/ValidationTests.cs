using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Tests.Registrations;

public class RegistrationValidationTests
{
    private static readonly DateOnly Today = new(2025, 3, 3);

    private static IReadOnlyList<FieldError> Validate(Registration r) => RegistrationValidator.Validate(r, Today);

    [Fact]
    public void A_complete_registration_is_valid() => Assert.Empty(Validate(Fixtures.Registration()));

    [Theory]
    [InlineData(false, true, true, true, "consent.informedOfComputerisation")]
    [InlineData(true, false, true, true, "consent.informedOfSharing")]
    [InlineData(true, true, false, true, "consent.informedOfHdsHosting")]
    [InlineData(true, true, true, false, "consent.noObjection")]
    public void Each_consent_item_is_required(bool computerisation, bool sharing, bool hds, bool noObjection, string field)
    {
        var errors = Validate(Fixtures.Registration() with { Consent = new Consent(computerisation, sharing, hds, noObjection) });
        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.Equal("consent_required", error.Code);
    }

    [Fact]
    public void Missing_traits_are_reported_per_field_without_echoing_values()
    {
        var patient = Fixtures.Patient() with { BirthName = " ", FirstName = "'-'", BirthDate = Today.AddDays(1) };
        var errors = Validate(Fixtures.Registration(patient));
        Assert.Equal(["patient.birthName", "patient.firstName", "patient.birthDate"], errors.Select(e => e.Field));
        Assert.Equal(["required", "no_letters", "out_of_range"], errors.Select(e => e.Code));
    }

    [Fact]
    public void Usage_name_when_given_must_be_a_name()
    {
        var errors = Validate(Fixtures.Registration(Fixtures.Patient() with { UsageName = "" }));
        Assert.Equal("patient.usageName", Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData(Fixtures.ValidNir, Ins.ProductionOid, null)]
    [InlineData(Fixtures.ValidCorsicanNir, Ins.TestOid, null)]
    [InlineData("284057512345673", Ins.ProductionOid, "patient.ins.matricule")] // wrong key
    [InlineData("28405751234567", Ins.ProductionOid, "patient.ins.matricule")] // too short
    [InlineData("2840575123456X2", Ins.ProductionOid, "patient.ins.matricule")]
    [InlineData(Fixtures.ValidNir, "1.2.250.1.213.1.4.9", "patient.ins.oid")]
    public void Ins_matricule_key_and_oid_are_checked(string matricule, string oid, string? field)
    {
        var errors = Validate(Fixtures.Registration(Fixtures.Patient(new Ins(matricule, oid))));
        if (field is null)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Equal(field, Assert.Single(errors).Field);
        }
    }

    [Fact]
    public void Filter_override_is_validated()
    {
        var filter = new ImagingFilterOverride(["CT", "XX"], DateFilter.Between(new DateOnly(2025, 1, 1), new DateOnly(2024, 1, 1)));
        var errors = Validate(Fixtures.Registration(filter: filter));
        Assert.Equal(["filterOverride.modalities[1]", "filterOverride.date.to"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Requester_is_required()
    {
        var errors = Validate(Fixtures.Registration() with { Requester = new Requester("", "", null) });
        Assert.Equal(["requester.id", "requester.name"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Messages_never_contain_the_submitted_values()
    {
        var patient = Fixtures.Patient(new Ins("SECRET-MATRICULE", Ins.ProductionOid)) with { BirthDate = new DateOnly(1700, 1, 1) };
        var errors = Validate(Fixtures.Registration(patient));
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("1700", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Patient_identity_is_redacted_from_ToString()
    {
        var text = Fixtures.Registration(Fixtures.Patient(new Ins(Fixtures.ValidNir, Ins.ProductionOid))).ToString();
        Assert.DoesNotContain("Lef", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1958", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Fixtures.ValidNir, text, StringComparison.Ordinal);
    }
}

public class MeetingValidationTests
{
    [Fact]
    public void The_fixture_meeting_is_valid() => Assert.Empty(Fixtures.Meeting().Validate(Fixtures.T0));

    [Fact]
    public void Settings_are_checked_field_by_field()
    {
        var meeting = Fixtures.Meeting() with
        {
            Capacity = 0,
            RetentionDays = 0,
            DefaultFilter = new ImagingFilter(["ct"], DateFilter.WithinLastMonths(0)),
            OnCallRadiologist = new Physician("Dr X", "not-an-email"),
            AutoSelect = new AutoSelectPolicy(AutoSelectMode.MostRecent, 0),
        };
        Assert.Equal(
            ["capacity", "retentionDays", "defaultFilter.modalities[0]", "defaultFilter.date.months", "onCallRadiologist.email", "autoSelect.maxStudies"],
            meeting.Validate(Fixtures.T0).Select(e => e.Field));
    }

    [Fact]
    public void A_meeting_whose_retention_has_ended_is_refused_on_startsAt_but_a_past_one_still_within_retention_is_not()
    {
        var meeting = Fixtures.Meeting() with { RetentionDays = 1 };
        var withinRetention = meeting.StartsAt.AddHours(23);
        Assert.Empty(meeting.Validate(withinRetention));

        var error = Assert.Single(meeting.Validate(meeting.StartsAt.AddDays(1)));
        Assert.Equal(("startsAt", "retention_ended"), (error.Field, error.Code));
        Assert.Single(meeting.Validate(meeting.StartsAt.AddDays(40)), e => e.Field == "startsAt");

        // An out-of-range retention is reported as such, not as an ended retention.
        Assert.Equal(["retentionDays"], (meeting with { RetentionDays = 0 }).Validate(meeting.StartsAt.AddDays(40)).Select(e => e.Field));
    }

    [Fact]
    public void Every_modality_of_the_user_guide_is_known_and_nothing_else()
    {
        Assert.Equal(18, Modalities.All.Count);
        Assert.All(Modalities.All, m => Assert.True(Modalities.IsKnown(m)));
        Assert.False(Modalities.IsKnown("SEG"));
        Assert.False(Modalities.IsKnown("ct"));
    }

    [Fact]
    public void Registration_override_replaces_each_half_independently()
    {
        var meetingFilter = new ImagingFilter(["CT"], DateFilter.WithinLastMonths(6));
        Assert.Same(meetingFilter, ImagingFilter.Effective(meetingFilter, null));
        Assert.Equal(new ImagingFilter(meetingFilter.Modalities, DateFilter.None), ImagingFilter.Effective(meetingFilter, new ImagingFilterOverride(null, DateFilter.None)));
        var both = ImagingFilter.Effective(meetingFilter, new ImagingFilterOverride(["MR"], null));
        Assert.Equal(["MR"], both.Modalities);
        Assert.Equal(meetingFilter.Date, both.Date);
    }
}
