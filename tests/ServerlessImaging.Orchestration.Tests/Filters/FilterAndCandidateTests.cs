using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Filters;
using ServerlessImaging.Orchestration.Meetings;

namespace ServerlessImaging.Orchestration.Tests.Filters;

public class StudyFilterTests
{
    private static readonly DateOnly MeetingDate = new(2025, 3, 22);

    [Theory]
    [InlineData(new string[0], new[] { "CT" }, true)]
    [InlineData(new string[0], new string[0], true)]
    [InlineData(new[] { "CT", "MR" }, new[] { "SR", "CT" }, true)]
    [InlineData(new[] { "MR" }, new[] { "CT", "SR" }, false)]
    [InlineData(new[] { "CT" }, new[] { " ct " }, true)]
    [InlineData(new[] { "CT" }, new string[0], false)]
    public void Modality_filter(string[] filter, string[] study, bool passes) =>
        Assert.Equal(passes, StudyFilter.PassesModalities(study, filter));

    [Theory]
    [InlineData("2024-01-01", true)]
    [InlineData("2024-12-31", true)]
    [InlineData("2024-06-15", true)]
    [InlineData("2023-12-31", false)]
    [InlineData("2025-01-01", false)]
    public void Between_two_dates_is_inclusive(string date, bool passes) =>
        Assert.Equal(passes, StudyFilter.PassesDate(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture), DateFilter.Between(new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)), MeetingDate));

    [Theory]
    [InlineData("2024-09-22", true)] // exactly 6 months before the meeting
    [InlineData("2024-09-21", false)]
    [InlineData("2025-03-22", true)] // the meeting day
    [InlineData("2025-03-23", false)] // after the meeting
    public void Within_last_months_is_relative_to_the_meeting_date(string date, bool passes) =>
        Assert.Equal(passes, StudyFilter.PassesDate(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture), DateFilter.WithinLastMonths(6), MeetingDate));

    [Fact]
    public void A_study_without_date_passes_only_when_there_is_no_date_filter()
    {
        Assert.True(StudyFilter.PassesDate(null, DateFilter.None, MeetingDate));
        Assert.False(StudyFilter.PassesDate(null, DateFilter.WithinLastMonths(12), MeetingDate));
    }

    [Fact]
    public void Range_for_the_query_follows_the_filter()
    {
        Assert.Equal((new DateOnly(2024, 3, 22), MeetingDate), DateFilter.WithinLastMonths(12).RangeFor(MeetingDate));
        Assert.Equal(((DateOnly?)null, (DateOnly?)null), DateFilter.None.RangeFor(MeetingDate));
    }
}

public class CandidateListTests
{
    private static FoundStudy Study(string uid, string? description, int series, params string[] modalities) =>
        new(Fixtures.PacsPatientMatching(), uid, new DateOnly(2025, 1, 10), description, modalities, series, series * 10);

    [Fact]
    public void Same_study_at_several_sites_is_one_candidate_listing_every_site()
    {
        var list = CandidateList.Build([
            ("clinique-sud", Study("1.2.3", null, 2, "CT")),
            ("chu-nord", Study("1.2.3", "TDM", 3, "SR", "CT")),
            ("chu-nord", Study("1.2.4", "IRM", 1, "MR")),
        ]);

        Assert.Equal(["1.2.3", "1.2.4"], list.Select(c => c.StudyInstanceUid));
        var merged = list[0];
        Assert.Equal(["chu-nord", "clinique-sud"], merged.SiteIds.ToArray());
        Assert.Equal(["CT", "SR"], merged.Modalities.ToArray());
        Assert.Equal("TDM", merged.StudyDescription);
        Assert.Equal(3, merged.NumberOfSeries);
        Assert.Equal(30, merged.NumberOfInstances);
    }

    [Fact]
    public void Merging_does_not_depend_on_the_order_sites_answer_in()
    {
        var a = ("chu-nord", Study("1.2.3", "TDM NORD", 3, "CT"));
        var b = ("clinique-sud", Study("1.2.3", "TDM SUD", 2, "SR"));
        var ab = CandidateList.Build([a, b]).Single();
        var ba = CandidateList.Build([b, a]).Single();
        Assert.Equal(ab.StudyDescription, ba.StudyDescription);
        Assert.Equal(ab.SiteIds.ToArray(), ba.SiteIds.ToArray());
        Assert.Equal(ab.Modalities.ToArray(), ba.Modalities.ToArray());
        Assert.Equal("TDM NORD", ab.StudyDescription);
    }

    [Fact]
    public void The_same_site_reporting_twice_is_listed_once() =>
        Assert.Equal(["chu-nord"], CandidateList.Build([("chu-nord", Study("1.2.3", "A", 1, "CT")), ("chu-nord", Study("1.2.3", "A", 1, "CT"))]).Single().SiteIds.ToArray());
}
