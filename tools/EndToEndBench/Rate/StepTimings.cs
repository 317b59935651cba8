using System.Globalization;
using System.Text.Json;
using ServerlessImaging.EndToEndBench.Api;

namespace ServerlessImaging.EndToEndBench.Rate;

/// <summary>
/// Where a registration's time goes, step by step, from its audit trail: each orchestration record carries when its
/// step was applied (<c>recordedAt</c>, the orchestration's clock) and when the fact happened (<c>dateTime</c>: for a
/// relay's answer, when the relay sent it). The benchmark's own clock gives the POST and when a status poll first saw
/// each milestone. Every process runs on this machine, so the clocks compare.
/// </summary>
internal static class StepTimings
{
    /// <summary>The steps in flow order, each the time between two points of one registration's timeline.</summary>
    public static readonly IReadOnlyList<string> Steps =
    [
        "POST answered",
        "POST → first step applied",
        "first step → last site's answer sent by its relay",
        "last answer sent → applied",
        "candidates applied → seen by the client",
        "candidates applied → retrieval started",
        "retrieval started → retrieved (relay's report sent)",
        "retrieved report sent → applied",
        "retrieved applied → stored applied",
        "stored applied → seen available by the client",
    ];

    /// <summary>One registration's steps in milliseconds (a step whose points are missing from the trail is left out).</summary>
    public static IReadOnlyDictionary<string, double> Of(RegistrationTimes times, IReadOnlyList<JsonElement> trail)
    {
        ArgumentNullException.ThrowIfNull(times);
        var steps = new Dictionary<string, double>(StringComparer.Ordinal) { [Steps[0]] = times.PostAnswered.TotalMilliseconds };
        var started = Last(trail, "RegistrationStarted", "recordedAt");
        var answersSent = Last(trail, "SiteSearched", "dateTime");
        var answersApplied = Last(trail, "SiteSearched", "recordedAt");
        var candidates = Last(trail, "CandidatesReady", "recordedAt") ?? answersApplied;
        var retrievalStarted = Last(trail, "RetrievalStarted", "recordedAt");
        var retrievedSent = Last(trail, "RetrievalCompleted", "dateTime");
        var retrievedApplied = Last(trail, "RetrievalCompleted", "recordedAt");
        var stored = Last(trail, "StudyStored", "recordedAt");
        Add(steps, Steps[1], times.PostedAt, started);
        Add(steps, Steps[2], started, answersSent);
        Add(steps, Steps[3], answersSent, answersApplied);
        Add(steps, Steps[4], candidates, times.PostedAt + times.ToCandidates);
        Add(steps, Steps[5], candidates, retrievalStarted);
        Add(steps, Steps[6], retrievalStarted, retrievedSent);
        Add(steps, Steps[7], retrievedSent, retrievedApplied);
        Add(steps, Steps[8], retrievedApplied, stored);
        Add(steps, Steps[9], stored, times.PostedAt + times.ToAvailable);
        return steps;
    }

    private static void Add(Dictionary<string, double> steps, string name, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } a && to is { } b)
        {
            steps[name] = (b - a).TotalMilliseconds;
        }
    }

    // The latest point of that kind (the last site to answer, the last study stored).
    private static DateTimeOffset? Last(IReadOnlyList<JsonElement> trail, string eventType, string property) =>
        trail.Where(r => r.GetProperty("eventType").GetString() == eventType)
            .Select(r => (DateTimeOffset?)DateTimeOffset.Parse(r.GetProperty(property).GetString()!, CultureInfo.InvariantCulture))
            .Max();
}
