using System.Text.Json;
using ServerlessImaging.EndToEndBench.Api;
using ServerlessImaging.EndToEndBench.Rate;

namespace ServerlessImaging.EndToEndBench.Tests;

public class StepTimingsTests
{
    private static readonly DateTimeOffset Posted = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static JsonElement Record(string eventType, double dateTimeMs, double recordedAtMs) =>
        JsonDocument.Parse($$"""{"eventType":"{{eventType}}","dateTime":"{{Posted.AddMilliseconds(dateTimeMs):O}}","recordedAt":"{{Posted.AddMilliseconds(recordedAtMs):O}}"}""").RootElement.Clone();

    [Fact]
    public void Each_step_is_the_time_between_its_two_points_and_the_last_site_counts()
    {
        var times = new RegistrationTimes("reg-1", Posted, TimeSpan.FromMilliseconds(120), ToCandidates: TimeSpan.FromMilliseconds(1500), ToRetrieved: TimeSpan.FromMilliseconds(2500), ToAvailable: TimeSpan.FromMilliseconds(4000));
        JsonElement[] trail =
        [
            Record("RegistrationStarted", 100, 300),
            Record("SiteSearched", 700, 900),
            Record("SiteSearched", 1000, 1200), // the last site to answer
            Record("CandidatesReady", 1000, 1200),
            Record("SelectionMade", 1200, 1200),
            Record("RetrievalStarted", 1200, 1200),
            Record("RetrievalCompleted", 2100, 2300),
            Record("StudyStored", 3000, 3600),
        ];

        var steps = StepTimings.Of(times, trail);

        Assert.Equal(120, steps["POST answered"]);
        Assert.Equal(300, steps["POST → first step applied"]);
        Assert.Equal(700, steps["first step → last site's answer sent by its relay"]);
        Assert.Equal(200, steps["last answer sent → applied"]);
        Assert.Equal(300, steps["candidates applied → seen by the client"]);
        Assert.Equal(0, steps["candidates applied → retrieval started"]);
        Assert.Equal(900, steps["retrieval started → retrieved (relay's report sent)"]);
        Assert.Equal(200, steps["retrieved report sent → applied"]);
        Assert.Equal(1300, steps["retrieved applied → stored applied"]);
        Assert.Equal(400, steps["stored applied → seen available by the client"]);
    }

    [Fact]
    public void Steps_whose_points_are_missing_are_left_out()
    {
        var times = new RegistrationTimes("reg-2", Posted, TimeSpan.FromMilliseconds(80), TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(900));

        var steps = StepTimings.Of(times, [Record("RegistrationStarted", 10, 50)]);

        Assert.Equal(["POST answered", "POST → first step applied"], steps.Keys.Order(StringComparer.Ordinal));
    }
}
