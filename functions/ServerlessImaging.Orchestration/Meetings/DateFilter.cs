using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Meetings;

/// <summary>How a date filter restricts study dates.</summary>
public enum DateFilterKind
{
    /// <summary>No restriction.</summary>
    None,

    /// <summary>Study date between <see cref="DateFilter.From"/> and <see cref="DateFilter.To"/>, both included.</summary>
    Between,

    /// <summary>Study date within the last <see cref="DateFilter.Months"/> months before the meeting date, meeting date included.</summary>
    WithinLastMonths,
}

/// <summary>The study-date filter of a meeting or of a registration override.</summary>
public sealed record DateFilter(DateFilterKind Kind, DateOnly? From = null, DateOnly? To = null, int? Months = null)
{
    /// <summary>No date restriction.</summary>
    public static readonly DateFilter None = new(DateFilterKind.None);

    /// <summary>Between two dates, both included.</summary>
    public static DateFilter Between(DateOnly from, DateOnly to) => new(DateFilterKind.Between, from, to);

    /// <summary>Within the last <paramref name="months"/> months before the meeting.</summary>
    public static DateFilter WithinLastMonths(int months) => new(DateFilterKind.WithinLastMonths, Months: months);

    /// <summary>The inclusive date range this filter allows for a meeting held on <paramref name="meetingDate"/>; nulls mean open.</summary>
    public (DateOnly? From, DateOnly? To) RangeFor(DateOnly meetingDate) => Kind switch
    {
        DateFilterKind.Between => (From, To),
        DateFilterKind.WithinLastMonths => (meetingDate.AddMonths(-(Months ?? 0)), meetingDate),
        _ => (null, null),
    };

    /// <summary>Reports what is wrong with this filter under <paramref name="field"/>.</summary>
    public void Validate(ValidationErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        switch (Kind)
        {
            case DateFilterKind.None:
                break;
            case DateFilterKind.Between:
                if (errors.Require(From is not null, $"{field}.from", "required", "A start date is required.")
                    & errors.Require(To is not null, $"{field}.to", "required", "An end date is required."))
                {
                    errors.Require(From <= To, $"{field}.to", "before_start", "The end date is before the start date.");
                }

                break;
            case DateFilterKind.WithinLastMonths:
                errors.Require(Months is >= 1 and <= 600, $"{field}.months", "out_of_range", "Months must be between 1 and 600.");
                break;
            default:
                errors.Add($"{field}.kind", "unknown", "Unknown date filter kind.");
                break;
        }
    }
}
