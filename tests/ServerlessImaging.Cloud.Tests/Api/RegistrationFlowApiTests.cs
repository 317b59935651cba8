using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>Meetings, registrations and their actions through HTTP, on the real runtime and Cosmos DB stand-in.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class RegistrationFlowApiTests(LocalStackFixture stack) : IAsyncLifetime
{
    private readonly ApiSamples samples = new();
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private async Task<string> PutMeetingAsync(bool withRecipients = true, int capacity = 20)
    {
        var id = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        var (response, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.Meeting(withRecipients: withRecipients, capacity: capacity)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return id;
    }

    private async Task<string> RegisterAsync(string meetingId, string? key = null)
    {
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), key));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return body.GetProperty("registrationId").GetString()!;
    }

    /// <summary>
    /// Reads the registration until <paramref name="condition"/> holds. The API records the caller's step in the read
    /// model at once, but a step the orchestration was committing meanwhile (an activity's outcome) can carry the same
    /// version and replace it until the orchestration's own step for the caller's event is recorded.
    /// </summary>
    private async Task<JsonElement> ReadUntilAsync(string registrationId, Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (response, view) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (condition(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The registration did not show {what} within 30 s.");
            await Task.Delay(50);
        }
    }

    private static void AssertFieldError(JsonElement problem, string field, string code)
    {
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field && e.GetProperty("code").GetString() == code);
    }

    private void AssertNoPatientData(string text)
    {
        foreach (var value in samples.PatientData)
        {
            Assert.DoesNotContain(value, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>Lets both (fake-free: the real engine and read model) sites answer with one matching study each.</summary>
    private async Task<string[]> SitesAnswerAsync(string registrationId)
    {
        var uids = new List<string>();
        foreach (var site in host.SiteIds)
        {
            var uid = UniqueNames.DicomUid();
            uids.Add(uid);
            var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-" + site, null, new DateOnly(1961, 4, 2), "F", []);
            var found = new StudiesFoundAtSite($"evt-{site}-{uid}", DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(patient, uid, new DateOnly(2029, 1, 5), "TDM THORAX", ["CT"], 2, 40)]);
            await host.RaiseAndWaitAsync(registrationId, found);
        }

        return [.. uids];
    }

    [Fact]
    public async Task Meetings_round_trip_and_bad_settings_get_field_errors_without_echo()
    {
        var id = await PutMeetingAsync();
        var (get, meeting) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{id}", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("RCP ORL CHRU de Tours", meeting.GetProperty("settings").GetProperty("title").GetString());
        var etag = meeting.GetProperty("eTag").GetString()!;

        // What GET gives is what PUT takes (enums by name, no member PUT does not know): the settings go back as read.
        Assert.Equal(JsonValueKind.String, meeting.GetProperty("settings").GetProperty("autoSelect").GetProperty("mode").ValueKind);
        var (again, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, meeting.GetProperty("settings").GetRawText()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var invalid = JsonSerializer.Serialize(ApiSamples.Meeting(), ApiHost.Json).Replace("\"capacity\":20", "\"capacity\":0", StringComparison.Ordinal).Replace("radio@example.org", "radio-at-nowhere", StringComparison.Ordinal);
        var (bad, problem) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, invalid));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        AssertFieldError(problem, "capacity", "out_of_range");
        AssertFieldError(problem, "onCallRadiologist.email", "invalid_email");
        Assert.DoesNotContain("radio-at-nowhere", problem.GetRawText(), StringComparison.Ordinal);

        var (malformed, malformedProblem) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, "{\"title\": 12, \"secret\": \"LEAKME\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.DoesNotContain("LEAKME", malformedProblem.GetRawText(), StringComparison.Ordinal);

        var (missing, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/meetings/m-does-not-exist", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // A stale If-Match loses.
        await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.Meeting("RCP ORL v2")));
        var stale = host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.Meeting("RCP ORL v3"));
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        var (conflict, _) = await host.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, conflict.StatusCode);
    }

    [Fact]
    public async Task A_meeting_whose_retention_has_ended_is_refused_on_startsAt_while_a_past_one_within_retention_is_accepted()
    {
        var id = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        static object StartingDaysAgo(int days) => ApiSamples.Meeting(startsAt: DateTimeOffset.UtcNow.AddDays(-days));

        // Retention is 30 days: a meeting 31 days ago would have every registration purged at once.
        var (ended, problem) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, StartingDaysAgo(31)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ended.StatusCode);
        Assert.Equal("application/problem+json", ended.Content.Headers.ContentType?.MediaType);
        AssertFieldError(problem, "startsAt", "retention_ended");
        var (absent, _) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{id}", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);

        var (recent, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, StartingDaysAgo(29)));
        Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
    }

    [Fact]
    public async Task A_registration_is_accepted_with_a_status_location_and_its_status_carries_no_patient_data()
    {
        var meetingId = await PutMeetingAsync();
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration()));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.Equal(body.GetProperty("statusUrl").GetString(), location);

        var (status, view) = await host.SendAsync(host.Request(HttpMethod.Get, location, ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("Running", view.GetProperty("status").GetString());
        Assert.Equal(host.SiteIds.Order(StringComparer.Ordinal), view.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("siteId").GetString()!));
        Assert.All(view.GetProperty("sites").EnumerateArray(), s => Assert.Equal("Searching", s.GetProperty("status").GetString()));
        AssertNoPatientData(view.GetRawText());

        var (unknown, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/registrations/reg-unknown", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var (unknownMeeting, _) = await host.SendAsync(host.Request(HttpMethod.Post, "/meetings/m-unknown/registrations", ApiRoles.Registrar, samples.Registration()));
        Assert.Equal(HttpStatusCode.NotFound, unknownMeeting.StatusCode);
    }

    [Fact]
    public async Task A_status_read_with_afterVersion_waits_for_the_next_step_and_answers_it()
    {
        var meetingId = await PutMeetingAsync();
        var registrationId = await RegisterAsync(meetingId);

        // The first step recorded: the start, with every site's first attempt (its search asked it).
        var first = default(System.Text.Json.JsonElement);
        for (var read = 0; read < 100; read++)
        {
            (_, first) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
            if (first.GetProperty("sites").EnumerateArray().All(s => s.GetProperty("attempt").GetInt32() == 1))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.All(first.GetProperty("sites").EnumerateArray(), s => Assert.Equal(1, s.GetProperty("attempt").GetInt32()));
        var version = first.GetProperty("version").GetInt64();
        Assert.True(version > 0);

        // An older version is answered at once; the current one waits until a site answers.
        var (older, olderView) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}?afterVersion={version - 1}", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal(version, olderView.GetProperty("version").GetInt64());
        var waiting = host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}?afterVersion={version}", ApiRoles.Registrar));
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted, "a read waiting for the next step answered before any step");

        var site = host.SiteIds[0];
        var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-" + site, null, new DateOnly(1961, 4, 2), "F", []);
        await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite($"evt-{site}-wait", DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(patient, UniqueNames.DicomUid(), new DateOnly(2029, 1, 5), "TDM THORAX", ["CT"], 2, 40)]));
        var (answered, next) = await waiting.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.True(next.GetProperty("version").GetInt64() > version);
        Assert.Contains(next.GetProperty("sites").EnumerateArray(), s => s.GetProperty("siteId").GetString() == site && s.GetProperty("status").GetString() == "Searched");
        AssertNoPatientData(next.GetRawText());

        var (bad, problem) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}?afterVersion=-1", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        AssertFieldError(problem, "afterVersion", "not_a_version");
        var (unknown, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/registrations/reg-unknown?afterVersion=3", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_registration_without_consent_is_refused_with_the_field_and_without_echoing_the_patient()
    {
        var meetingId = await PutMeetingAsync();
        var (response, problem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(consent: false)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        AssertFieldError(problem, "consent.noObjection", "consent_required");
        AssertNoPatientData(problem.GetRawText());

        var badDate = JsonSerializer.Serialize(samples.Registration(), ApiHost.Json).Replace(ApiSamples.BirthDate, "1850-01-01", StringComparison.Ordinal);
        var (dateResponse, dateProblem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, badDate));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, dateResponse.StatusCode);
        AssertFieldError(dateProblem, "patient.birthDate", "out_of_range");
        Assert.DoesNotContain("1850", dateProblem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_idempotency_key_replays_the_first_answer_and_refuses_another_body()
    {
        var meetingId = await PutMeetingAsync();
        var key = Guid.NewGuid().ToString();
        var (first, firstBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), key));
        var (second, secondBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), key));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(firstBody.GetProperty("registrationId").GetString(), secondBody.GetProperty("registrationId").GetString());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.True(second.Headers.Contains("Idempotent-Replayed"));

        var (reused, reusedProblem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(expertise: true), key));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.EndsWith("idempotency-key-reused", reusedProblem.GetProperty("type").GetString(), StringComparison.Ordinal);

        var other = await RegisterAsync(meetingId, Guid.NewGuid().ToString());
        Assert.NotEqual(firstBody.GetProperty("registrationId").GetString(), other);

        // Another caller's identical key is another request.
        var (otherCaller, otherCallerBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), key, subject: "another-rcp-software"));
        Assert.Equal(HttpStatusCode.Accepted, otherCaller.StatusCode);
        Assert.NotEqual(firstBody.GetProperty("registrationId").GetString(), otherCallerBody.GetProperty("registrationId").GetString());
    }

    [Fact]
    public async Task Selection_deletion_refresh_and_expertise_act_on_the_orchestration()
    {
        var meetingId = await PutMeetingAsync();
        var registrationId = await RegisterAsync(meetingId);
        var uids = await SitesAnswerAsync(registrationId);

        var (status, view) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
        Assert.Equal("WaitingForSelection", view.GetProperty("status").GetString());
        Assert.Equal(uids.Order(StringComparer.Ordinal), view.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("studyInstanceUid").GetString()!));

        var (unknownStudy, unknownProblem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = new[] { "1.2.999" } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownStudy.StatusCode);
        AssertFieldError(unknownProblem, "studyInstanceUids", "unknown_study");
        var (empty, emptyProblem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = Array.Empty<string>() }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.StatusCode);
        AssertFieldError(emptyProblem, "studyInstanceUids", "invalid");

        var key = Guid.NewGuid().ToString();
        var (selected, selectedBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = uids }, key));
        Assert.Equal(HttpStatusCode.Accepted, selected.StatusCode);
        Assert.Equal("Applied", selectedBody.GetProperty("disposition").GetString());
        var (again, _) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = uids }, key));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));

        view = await ReadUntilAsync(registrationId, v => v.GetProperty("status").GetString() == "Retrieving", "Retrieving");
        Assert.Equal(2, view.GetProperty("studies").GetArrayLength());

        var (deleteUnknown, _) = await host.SendAsync(host.Request(HttpMethod.Delete, $"/registrations/{registrationId}/studies/1.2.999", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, deleteUnknown.StatusCode);
        var (deleted, _) = await host.SendAsync(host.Request(HttpMethod.Delete, $"/registrations/{registrationId}/studies/{uids[0]}", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await ReadUntilAsync(
            registrationId,
            v => v.GetProperty("studies").EnumerateArray().Single(s => s.GetProperty("studyInstanceUid").GetString() == uids[0]).GetProperty("status").GetString() == "Deleted",
            "the study Deleted");

        var (refreshed, _) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/refresh", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.Accepted, refreshed.StatusCode);
        await ReadUntilAsync(registrationId, v => v.GetProperty("round").GetInt32() == 2, "search round 2");

        var (expertise, expertiseBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.Accepted, expertise.StatusCode);
        Assert.Equal("Applied", expertiseBody.GetProperty("disposition").GetString());

        foreach (var path in new[] { "/selection", "/refresh", "/expertise-request" })
        {
            var (notFound, _) = await host.SendAsync(host.Request(HttpMethod.Post, "/registrations/reg-unknown" + path, ApiRoles.Registrar, path == "/selection" ? new { studyInstanceUids = uids } : null));
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }

        var (deleteNotFound, _) = await host.SendAsync(host.Request(HttpMethod.Delete, $"/registrations/reg-unknown/studies/{uids[0]}", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.NotFound, deleteNotFound.StatusCode);
    }

    [Fact]
    public async Task A_full_meeting_refuses_new_registrations_but_replays_accepted_ones()
    {
        var meetingId = await PutMeetingAsync(capacity: 2);
        var firstKey = Guid.NewGuid().ToString();
        var first = await RegisterAsync(meetingId, firstKey);
        await RegisterAsync(meetingId);

        var (full, problem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
        Assert.EndsWith("meeting-full", problem.GetProperty("type").GetString(), StringComparison.Ordinal);

        Assert.Equal(first, await RegisterAsync(meetingId, firstKey));
    }

    [Fact]
    public async Task An_expertise_request_for_a_meeting_without_on_call_physicians_is_refused()
    {
        var meetingId = await PutMeetingAsync(withRecipients: false);
        var registrationId = await RegisterAsync(meetingId);
        var (response, problem) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        AssertFieldError(problem, "meeting", "no_recipients");
    }

    [Fact]
    public async Task Sites_show_the_relays_last_heartbeat_and_pacs_echo()
    {
        var store = host.Services.GetRequiredService<ISiteHealthStore>();
        var seen = DateTimeOffset.UtcNow.AddSeconds(-30);
        await store.RecordAsync(new SiteHealth(host.SiteIds[0], seen, "1.4.2", PacsEchoStatus.Ok, seen), CancellationToken.None);
        await store.RecordAsync(new SiteHealth(host.SiteIds[0], seen.AddMinutes(-10), "1.4.1", PacsEchoStatus.Failed, seen.AddMinutes(-10)), CancellationToken.None); // late, older: ignored

        var (response, sites) = await host.SendAsync(host.Request(HttpMethod.Get, "/sites", ApiRoles.Admin));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var first = sites.EnumerateArray().Single(s => s.GetProperty("siteId").GetString() == host.SiteIds[0]);
        Assert.True(first.GetProperty("online").GetBoolean());
        Assert.Equal("1.4.2", first.GetProperty("relayVersion").GetString());
        Assert.Equal("Ok", first.GetProperty("pacsEcho").GetString());
        var second = sites.EnumerateArray().Single(s => s.GetProperty("siteId").GetString() == host.SiteIds[1]);
        Assert.False(second.GetProperty("online").GetBoolean());
        Assert.Equal("Unknown", second.GetProperty("pacsEcho").GetString());
    }
}
