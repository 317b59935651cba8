using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Meetings;

/// <summary>
/// Which studies are offered: an empty modality list means every modality.
/// A meeting holds one; a registration may override either half.
/// </summary>
public sealed record ImagingFilter(IReadOnlyList<string> Modalities, DateFilter Date)
{
    /// <summary>No restriction at all.</summary>
    public static readonly ImagingFilter Everything = new([], DateFilter.None);

    /// <summary>The filter a registration uses: each half of the override replaces the meeting's when present.</summary>
    public static ImagingFilter Effective(ImagingFilter meetingDefault, ImagingFilterOverride? registrationOverride)
    {
        ArgumentNullException.ThrowIfNull(meetingDefault);
        return registrationOverride is null
            ? meetingDefault
            : new ImagingFilter(registrationOverride.Modalities ?? meetingDefault.Modalities, registrationOverride.Date ?? meetingDefault.Date);
    }

    /// <summary>Reports what is wrong under <paramref name="field"/>.</summary>
    public void Validate(ValidationErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ValidateModalities(Modalities, errors, $"{field}.modalities");
        if (errors.Require(Date is not null, $"{field}.date", "required", "A date filter is required (kind None for no filter)."))
        {
            Date!.Validate(errors, $"{field}.date");
        }
    }

    internal static void ValidateModalities(IReadOnlyList<string>? modalities, ValidationErrors errors, string field)
    {
        if (!errors.Require(modalities is not null, field, "required", "A modality list is required (empty for all)."))
        {
            return;
        }

        for (var i = 0; i < modalities!.Count; i++)
        {
            errors.Require(Meetings.Modalities.IsKnown(modalities[i]), $"{field}[{i}]", "unknown_modality", "Not one of AU CR CT DX ES MG MR NM OT PT RF RT SC SR US VL XA XC.");
        }
    }
}

/// <summary>Per-registration override of a meeting's filter; a null half keeps the meeting's.</summary>
public sealed record ImagingFilterOverride(IReadOnlyList<string>? Modalities, DateFilter? Date)
{
    /// <summary>Reports what is wrong under <paramref name="field"/>.</summary>
    public void Validate(ValidationErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Modalities is not null)
        {
            ImagingFilter.ValidateModalities(Modalities, errors, $"{field}.modalities");
        }

        Date?.Validate(errors, $"{field}.date");
    }
}
