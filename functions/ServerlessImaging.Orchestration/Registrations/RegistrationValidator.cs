using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Registrations;

/// <summary>Field-level validation of a <see cref="Registration"/>; messages never echo submitted values.</summary>
public static class RegistrationValidator
{
    /// <summary>Earliest birth date accepted (older dates are data-entry errors).</summary>
    public static readonly DateOnly EarliestBirthDate = new(1880, 1, 1);

    /// <summary>Validates <paramref name="registration"/>; <paramref name="today"/> bounds the birth date (no clock here).</summary>
    public static IReadOnlyList<FieldError> Validate(Registration registration, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var errors = new ValidationErrors();
        errors.RequireText(registration.Id, "id", 128);
        errors.RequireText(registration.MeetingId, "meetingId", 128);
        if (errors.Require(registration.Patient is not null, "patient", "required", "Patient traits are required."))
        {
            ValidatePatient(registration.Patient!, today, errors);
        }

        if (errors.Require(registration.Consent is not null, "consent", "required", "Consent is required."))
        {
            var consent = registration.Consent!;
            errors.Require(consent.InformedOfComputerisation, "consent.informedOfComputerisation", "consent_required", "The patient must have been informed of the computerisation of their data.");
            errors.Require(consent.InformedOfSharing, "consent.informedOfSharing", "consent_required", "The patient must have been informed of the sharing of their data.");
            errors.Require(consent.InformedOfHdsHosting, "consent.informedOfHdsHosting", "consent_required", "The patient must have been informed of the hosting by a certified health-data host.");
            errors.Require(consent.NoObjection, "consent.noObjection", "consent_required", "The patient must not have objected.");
        }

        if (errors.Require(registration.Requester is not null, "requester", "required", "The requester is required."))
        {
            errors.RequireText(registration.Requester!.Id, "requester.id", 128);
            errors.RequireText(registration.Requester.Name, "requester.name", 256);
        }

        registration.FilterOverride?.Validate(errors, "filterOverride");
        return errors.Errors;
    }

    private static void ValidatePatient(PatientIdentity patient, DateOnly today, ValidationErrors errors)
    {
        RequireName(patient.BirthName, "patient.birthName", errors);
        if (patient.UsageName is not null)
        {
            RequireName(patient.UsageName, "patient.usageName", errors);
        }

        RequireName(patient.FirstName, "patient.firstName", errors);
        errors.Require(patient.BirthDate >= EarliestBirthDate && patient.BirthDate <= today, "patient.birthDate", "out_of_range", "The birth date must be a past date after 1880.");
        errors.Require(Enum.IsDefined(patient.Sex), "patient.sex", "unknown", "Sex must be Female, Male or Other.");
        if (patient.Ins is { } ins)
        {
            errors.Require(Ins.IsValidMatricule(ins.Matricule), "patient.ins.matricule", "invalid_ins", "The INS matricule must be 15 characters with a valid key.");
            errors.Require(Ins.IsInsOid(ins.Oid), "patient.ins.oid", "invalid_oid", $"The INS OID must be {Ins.ProductionOid} or {Ins.TestOid}.");
        }
    }

    private static void RequireName(string? value, string field, ValidationErrors errors)
    {
        if (errors.RequireText(value, field, 64))
        {
            // A name must keep at least one letter once normalised, or nothing could ever match it.
            errors.Require(NameNormalizer.Normalize(value).Any(char.IsAsciiLetter), field, "no_letters", "A name must contain letters.");
        }
    }
}
