using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Cloud.Tests.Api;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Security;

/// <summary>
/// Refused requests (401/403) write a bounded number of Security Alert records: one at once per source, route and reason,
/// then one summary per window carrying how many more there were. The aggregation's bounds (records and memory) are pure
/// logic, tested with explicit times; the flood goes through the real app into the Cosmos DB stand-in.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class RefusalAggregationTests(LocalStackFixture stack)
{
    private static readonly DateTimeOffset T0 = new(2030, 5, 14, 8, 0, 0, TimeSpan.Zero);

    private static AuditRecord Refusal(string source, int status = 401, string? user = null, string? registrationId = "reg-1") => new()
    {
        Id = "au-" + Guid.NewGuid().ToString("N"),
        PartitionKey = AuditRecord.PartitionKeyFor(T0),
        EventId = AuditEventIds.SecurityAlert,
        EventType = "Unauthenticated:RegistrationStatusRead",
        ActionCode = AuditActionCodes.Execute,
        DateTime = T0,
        RecordedAt = T0,
        Outcome = AuditOutcomeCodes.MinorFailure,
        OutcomeDescription = $"HTTP {status}",
        AuditSource = "serverless-imaging-api",
        ActiveParticipants = [new(user ?? "anonymous", "user", true, null, source), new("serverless-imaging-api", "application", false, "destination")],
        ParticipantObjects = [AuditParticipantObject.Registration(registrationId ?? "reg-1"), new(2, 13, "http-request", "GET /registrations/{registrationId}", $"status {status}")],
        UserId = user,
        RegistrationId = registrationId,
    };

    private static RefusalKey Key(string source, int status = 401, string? user = null) => new(source, "GET /registrations/{registrationId}", status, user);

    private static long CountOf(AuditRecord record) =>
        long.Parse(Assert.Single(record.ParticipantObjects, o => o.IdTypeCode == RefusalAuditAggregator.CountIdType).Id, CultureInfo.InvariantCulture);

    [Fact]
    public void A_flood_of_one_key_is_one_record_at_once_and_one_summary_with_the_count_after_the_window()
    {
        var aggregator = new RefusalAuditAggregator(TimeSpan.FromMinutes(1));
        var written = new List<AuditRecord>();
        for (var i = 0; i < 200; i++)
        {
            written.AddRange(aggregator.Observe(Key("203.0.113.7"), Refusal("203.0.113.7", registrationId: "reg-" + i), T0.AddMilliseconds(100 * i)));
        }

        var first = Assert.Single(written);
        Assert.Equal(1, CountOf(first));
        Assert.Equal("reg-0", first.RegistrationId);
        Assert.Empty(aggregator.TakeEnded(T0.AddSeconds(59)));

        var summary = Assert.Single(aggregator.TakeEnded(T0.AddSeconds(61)));
        Assert.Equal(199, CountOf(summary));
        Assert.Equal(T0.AddMilliseconds(100), summary.DateTime);
        Assert.Equal(T0.AddSeconds(61), summary.RecordedAt);
        Assert.Equal(AuditEventIds.SecurityAlert, summary.EventId);
        Assert.Equal("Unauthenticated:RegistrationStatusRead", summary.EventType);
        Assert.Contains("199 more refusal(s)", summary.OutcomeDescription, StringComparison.Ordinal);
        Assert.Null(summary.RegistrationId); // one request's registration does not speak for the others
        Assert.DoesNotContain(summary.ParticipantObjects, o => o.IdTypeCode == "registration");
        Assert.Equal("203.0.113.7", summary.ActiveParticipants[0].NetworkAccessPoint);
        Assert.NotEqual(first.Id, summary.Id);
        Assert.Equal(0, aggregator.OpenWindows);
    }

    [Fact]
    public void A_refusal_after_its_window_writes_the_previous_summary_and_opens_a_new_window()
    {
        var aggregator = new RefusalAuditAggregator(TimeSpan.FromMinutes(1));
        Assert.Single(aggregator.Observe(Key("203.0.113.7"), Refusal("203.0.113.7"), T0));
        Assert.Empty(aggregator.Observe(Key("203.0.113.7"), Refusal("203.0.113.7"), T0.AddSeconds(10)));
        Assert.Empty(aggregator.Observe(Key("203.0.113.7"), Refusal("203.0.113.7"), T0.AddSeconds(20)));

        var next = aggregator.Observe(Key("203.0.113.7"), Refusal("203.0.113.7"), T0.AddSeconds(75));
        Assert.Equal(2, next.Count);
        Assert.Equal(2, CountOf(next[0])); // the summary of the ended window
        Assert.Equal(1, CountOf(next[1])); // this refusal, first of its window
        Assert.Empty(aggregator.TakeAll(T0.AddSeconds(80))); // nothing counted in the new window yet
    }

    [Fact]
    public void Sources_routes_statuses_and_forbidden_users_are_aggregated_apart()
    {
        var aggregator = new RefusalAuditAggregator(TimeSpan.FromMinutes(1));
        var keys = new[]
        {
            Key("203.0.113.7"), Key("203.0.113.8"), Key("203.0.113.7") with { Route = "GET /sites" },
            Key("203.0.113.7", 403, "alice"), Key("203.0.113.7", 403, "bob"),
        };
        foreach (var key in keys)
        {
            Assert.Single(aggregator.Observe(key, Refusal(key.Source, key.Status, key.UserId), T0));
            Assert.Empty(aggregator.Observe(key, Refusal(key.Source, key.Status, key.UserId), T0.AddSeconds(1)));
        }

        var summaries = aggregator.TakeAll(T0.AddSeconds(2));
        Assert.Equal(keys.Length, summaries.Count);
        Assert.Equal(["alice", "bob"], summaries.Select(s => s.UserId).OfType<string>().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Memory_and_records_stay_bounded_when_every_request_comes_from_another_source()
    {
        const int maxKeys = 100;
        var aggregator = new RefusalAuditAggregator(TimeSpan.FromMinutes(1), maxKeys);
        var written = new List<AuditRecord>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 10_000; i++)
            {
                var source = $"2001:db8::{i:x}";
                written.AddRange(aggregator.Observe(Key(source), Refusal(source), T0.AddMilliseconds(round * 1000 + (i / 100))));
                Assert.True(aggregator.OpenWindows <= maxKeys + 1, $"{aggregator.OpenWindows} open windows");
            }
        }

        Assert.Equal(maxKeys + 1, written.Count); // one per tracked key, one for the overflow bucket
        written.AddRange(aggregator.TakeAll(T0.AddMinutes(2)));
        Assert.True(written.Count <= 2 * (maxKeys + 1), $"{written.Count} records");
        Assert.Equal(30_000, written.Sum(CountOf));
        var overflow = Assert.Single(written, r => r.ParticipantObjects.Any(o => o.IdTypeCode == "http-request" && o.Id == RefusalAuditAggregator.OverflowSource));
        Assert.Equal(RefusalAuditAggregator.OverflowSource, overflow.ActiveParticipants[0].UserId);
        Assert.Null(overflow.ActiveParticipants[0].NetworkAccessPoint);
        Assert.Equal(0, aggregator.OpenWindows);
    }

    [Fact]
    public async Task Two_hundred_anonymous_calls_write_a_bounded_number_of_records_that_carry_the_count()
    {
        var window = TimeSpan.FromSeconds(10);
        await using var host = await ApiHost.StartAsync(stack, new Dictionary<string, string?> { ["Audit:RefusalWindow"] = "00:00:10" });

        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
        {
            using var response = await host.Client.GetAsync(new Uri($"/registrations/reg-flood-{i}", UriKind.Relative), cancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        });
        var elapsed = watch.Elapsed;

        // The summary is written once the window has ended (the flusher runs every quarter window).
        List<JsonElement> records;
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var (response, body) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?pageSize=500", ApiRoles.Auditor));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            records = [.. body.GetProperty("records").EnumerateArray().Where(r => r.GetProperty("eventType").GetString() == "Unauthenticated:RegistrationStatusRead")];
            if (records.Sum(Count) >= 200 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(500);
        }

        // At most two records per window the flood spanned (usually one window: the first refusal, then the summary).
        var windows = (int)(elapsed / window) + 1;
        Assert.True(records.Count <= 2 * windows, $"{records.Count} records for 200 refusals over {elapsed.TotalSeconds:F1} s");
        Assert.Equal(200, records.Sum(Count));
        Assert.Equal(1, Count(records[0]));
        Assert.All(records, r =>
        {
            Assert.Equal("110113", r.GetProperty("eventId").GetProperty("code").GetString());
            Assert.Equal(4, r.GetProperty("outcome").GetInt32());
            Assert.Equal("127.0.0.1", r.GetProperty("activeParticipants")[0].GetProperty("networkAccessPoint").GetString());
        });
    }

    private static long Count(JsonElement record) =>
        long.Parse(
            record.GetProperty("participantObjects").EnumerateArray().Single(o => o.GetProperty("idTypeCode").GetString() == RefusalAuditAggregator.CountIdType).GetProperty("id").GetString()!,
            CultureInfo.InvariantCulture);
}
