using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Meetings;

/// <summary>
/// A tumour board meeting (RCP) and its imaging settings, as the 3C coordinators set them.
/// </summary>
/// <param name="Id">Id given by the RCP software.</param>
/// <param name="Title">Display title ("RCP ORL CHRU de Tours").</param>
/// <param name="StartsAt">Date and time the meeting starts; retrievals aim to finish before it.</param>
/// <param name="Site">Where the meeting is held (the organising centre).</param>
/// <param name="Capacity">Number of patient files the meeting accepts.</param>
/// <param name="DefaultFilter">Imaging filter applied to every registration unless overridden.</param>
/// <param name="OnCallRadiologist">Recipient of expertise requests, if designated.</param>
/// <param name="OnCallNuclearPhysician">Recipient of expertise requests, if designated.</param>
/// <param name="AutoSelect">Whether candidates are selected without waiting for the clinician.</param>
/// <param name="RetentionDays">Days after the meeting before the cloud working copy is purged.</param>
/// <param name="DeliveryDestination">
/// DICOM node of the meeting site the selected studies are also delivered to (issue 17), or null: the studies stay in the
/// cloud DICOM service only. Optional and last, so meetings stored before it existed read as without one.
/// </param>
public sealed record Meeting(
    string Id,
    string Title,
    DateTimeOffset StartsAt,
    string Site,
    int Capacity,
    ImagingFilter DefaultFilter,
    Physician? OnCallRadiologist,
    Physician? OnCallNuclearPhysician,
    AutoSelectPolicy AutoSelect,
    int RetentionDays,
    MeetingDestination? DeliveryDestination = null)
{
    /// <summary>The date the meeting is held on (its own offset), the reference of "last X months" filters.</summary>
    public DateOnly Date => DateOnly.FromDateTime(StartsAt.DateTime);

    /// <summary>When the working copy of a registration to this meeting is purged.</summary>
    public DateTimeOffset PurgeAt => StartsAt.AddDays(RetentionDays);

    /// <summary>True when the retention is over at <paramref name="now"/>: a registration would be purged at once.</summary>
    public bool RetentionEndedBy(DateTimeOffset now) => PurgeAt <= now;

    /// <summary>
    /// Field-level validation at <paramref name="now"/>: a meeting may lie in the past while its retention runs, but
    /// not once <see cref="PurgeAt"/> has passed (every registration to it would be purged at once).
    /// </summary>
    public IReadOnlyList<FieldError> Validate(DateTimeOffset now) => Validate(now, knownSiteIds: null);

    /// <summary>
    /// Validation at <paramref name="now"/> against the configured sites (<paramref name="knownSiteIds"/>): a delivery
    /// destination must name one of them. Null: the destination's site is checked for shape only.
    /// </summary>
    public IReadOnlyList<FieldError> Validate(DateTimeOffset now, IReadOnlyCollection<string>? knownSiteIds)
    {
        var errors = new ValidationErrors();
        errors.RequireText(Id, "id", 128);
        errors.RequireText(Title, "title", 256);
        errors.RequireText(Site, "site", 128);
        errors.Require(Capacity is >= 1 and <= 1000, "capacity", "out_of_range", "Capacity must be between 1 and 1000.");
        if (errors.Require(RetentionDays is >= 1 and <= 365, "retentionDays", "out_of_range", "Retention must be between 1 and 365 days."))
        {
            errors.Require(!RetentionEndedBy(now), "startsAt", "retention_ended", "The meeting's retention (startsAt + retentionDays) has already ended: registrations would be purged at once.");
        }

        if (errors.Require(DefaultFilter is not null, "defaultFilter", "required", "An imaging filter is required."))
        {
            DefaultFilter!.Validate(errors, "defaultFilter");
        }

        OnCallRadiologist?.Validate(errors, "onCallRadiologist");
        OnCallNuclearPhysician?.Validate(errors, "onCallNuclearPhysician");
        if (errors.Require(AutoSelect is not null, "autoSelect", "required", "An auto-select policy is required."))
        {
            AutoSelect!.Validate(errors, "autoSelect");
        }

        DeliveryDestination?.Validate(errors, "deliveryDestination", knownSiteIds);
        return errors.Errors;
    }
}

/// <summary>A physician who can receive an expertise request.</summary>
public sealed record Physician(string Name, string Email)
{
    /// <summary>Reports what is wrong under <paramref name="field"/>.</summary>
    public void Validate(ValidationErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.RequireText(Name, $"{field}.name", 256);
        if (errors.RequireText(Email, $"{field}.email", 254))
        {
            errors.Require(LooksLikeEmail(Email), $"{field}.email", "invalid_email", "Not an e-mail address.");
        }
    }

    // A deliberately simple shape check; deliverability is the mail relay's business.
    private static bool LooksLikeEmail(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == value.LastIndexOf('@') && value.IndexOf('.', at) > at + 1 && !value.EndsWith('.') && !value.Any(char.IsWhiteSpace);
    }
}

/// <summary>How candidates are selected when the clinician does not select them.</summary>
public enum AutoSelectMode
{
    /// <summary>Wait for the clinician's selection (the user guide's flow).</summary>
    Manual,

    /// <summary>Select every candidate.</summary>
    AllCandidates,

    /// <summary>Select the <see cref="AutoSelectPolicy.MaxStudies"/> most recent candidates.</summary>
    MostRecent,
}

/// <summary>The auto-select policy of a meeting.</summary>
public sealed record AutoSelectPolicy(AutoSelectMode Mode, int MaxStudies = 0)
{
    /// <summary>Manual selection.</summary>
    public static readonly AutoSelectPolicy Manual = new(AutoSelectMode.Manual);

    /// <summary>Reports what is wrong under <paramref name="field"/>.</summary>
    public void Validate(ValidationErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(Enum.IsDefined(Mode), $"{field}.mode", "unknown", "Unknown auto-select mode.");
        if (Mode == AutoSelectMode.MostRecent)
        {
            errors.Require(MaxStudies is >= 1 and <= 100, $"{field}.maxStudies", "out_of_range", "Between 1 and 100 studies.");
        }
    }
}
