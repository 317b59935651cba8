using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;

namespace ServerlessImaging.Orchestration.Filters;

/// <summary>Applies an <see cref="ImagingFilter"/> to a study found in a PACS.</summary>
public static class StudyFilter
{
    /// <summary>
    /// True when the study passes. Modalities: an empty filter passes everything, otherwise at least one
    /// of the study's modalities must be in the filter (a study with no known modality fails).
    /// Dates: the filter's range for the meeting date, inclusive; a study without a date fails any date filter.
    /// </summary>
    public static bool Passes(FoundStudy study, ImagingFilter filter, DateOnly meetingDate)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(filter);
        return PassesModalities(study.Modalities, filter.Modalities) && PassesDate(study.StudyDate, filter.Date, meetingDate);
    }

    /// <summary>Modality half of <see cref="Passes"/>.</summary>
    public static bool PassesModalities(IReadOnlyList<string>? studyModalities, IReadOnlyList<string> filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Count == 0)
        {
            return true;
        }

        return (studyModalities ?? []).Any(m => filter.Contains(m.Trim().ToUpperInvariant(), StringComparer.Ordinal));
    }

    /// <summary>Date half of <see cref="Passes"/>.</summary>
    public static bool PassesDate(DateOnly? studyDate, DateFilter filter, DateOnly meetingDate)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Kind == DateFilterKind.None)
        {
            return true;
        }

        if (studyDate is not { } date)
        {
            return false;
        }

        var (from, to) = filter.RangeFor(meetingDate);
        return (from is null || date >= from) && (to is null || date <= to);
    }
}
