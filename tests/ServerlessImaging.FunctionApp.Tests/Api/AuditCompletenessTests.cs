using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ServerlessImaging.FunctionApp.Security;
using ServerlessImaging.FunctionApp.Tests.Runtime.Support;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.FunctionApp.Tests.Api;

/// <summary>
/// Issue 7, audit completeness: one full registration through the HTTP API with relays answering (scripted relays
/// C-FIND/C-GET the real site PACS and upload to staging with the command's SAS), the runtime storing into the
/// DICOM service, the expertise e-mail landing in maildev, a deletion and the retention purge (the meeting is set
/// so that its purge timer falls due a few seconds after the flow). Then the trail must hold a record per action,
/// in the flow's order.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AuditCompletenessTests(LocalStackFixture stack) : IDisposable
{
    // Long enough for the flow to finish before the purge timer is due (the flow takes a few seconds), short enough for the suite.
    private static readonly TimeSpan PurgeDelay = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan StepDeadline = TimeSpan.FromSeconds(30);

    private readonly HttpClient maildev = new() { BaseAddress = stack.Endpoints.Mail.WebUrl, Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => maildev.Dispose();

    [Fact]
    public async Task A_full_registration_leaves_one_record_per_action_in_the_flows_order()
    {
        var clock = Stopwatch.StartNew();
        var nord = stack.Endpoints.Site("chu-nord");
        var sud = stack.Endpoints.Site("clinique-sud");
        var patient = await PacsSeed.StoreAsync(nord, 2, 1);
        string[] studyUids = [.. patient.InstancesByStudy.Keys];
        var (deletedUid, keptUid) = (studyUids[0], studyUids[1]);
        var eventsQueue = UniqueNames.Queue("auditev");
        await using var host = await ApiHost.StartAsync(
            stack,
            new Dictionary<string, string?>
            {
                ["Orchestration:EventsQueue"] = eventsQueue,
                ["Orchestration:SweepInterval"] = "00:00:00.500",
                ["Orchestration:OutboxRedispatchAfter"] = "00:00:01",
                ["DicomWeb:OrthancRestUrl"] = stack.Endpoints.DicomService.HttpUrl.ToString(),
            },
            withWorkers: true);
        await using var relayNord = ScriptedRelay.Start(stack.Endpoints, host.SiteIds[0], nord, eventsQueue);
        await using var relaySud = ScriptedRelay.Start(stack.Endpoints, host.SiteIds[1], sud, eventsQueue);

        // Meeting whose retention ends PurgeDelay from now: started a day ago (minus the delay), kept one day.
        var title = "RCP audit " + UniqueNames.PatientSuffix(8);
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        var startsAt = DateTimeOffset.UtcNow.AddDays(-1).Add(PurgeDelay);
        await Expect(host, host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, Meeting(title, startsAt), subject: "coordinator-1"), HttpStatusCode.OK);

        // Refused (no consent), then accepted; a reader without the right role is refused.
        await Expect(host, host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, Registration(patient, consent: false), subject: "rcp-software"), HttpStatusCode.UnprocessableEntity);
        var accepted = await Expect(host, host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, Registration(patient, consent: true), Guid.NewGuid().ToString(), subject: "rcp-software"), HttpStatusCode.Accepted);
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        await Expect(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Auditor, subject: "curious-auditor"), HttpStatusCode.Forbidden);

        // Both sites answer (the relays really C-FIND); the two seeded studies are the candidates.
        var waiting = await WaitForStatusAsync(host, registrationId, s => s.GetProperty("status").GetString() == "WaitingForSelection");
        Assert.Equal(studyUids.Order(StringComparer.Ordinal), waiting.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("studyInstanceUid").GetString()!).Order(StringComparer.Ordinal));

        // Selection: the relay C-GETs and uploads to staging, the runtime stores into the DICOM service.
        await Expect(host, host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = studyUids }, subject: "rcp-software"), HttpStatusCode.Accepted);
        var available = await WaitForStatusAsync(host, registrationId, s => Studies(s).Count(x => x.GetProperty("status").GetString() == "Available") == 2);
        Assert.Equal(3, Studies(available).Sum(x => x.GetProperty("instancesStored").GetInt32()));

        // Expertise: the e-mail leaves at once since a study is available.
        await Expect(host, host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.Accepted);
        await WaitUntilAsync(async () => (await MailsAsync(title)).Count == 1, "the expertise e-mail in maildev");

        // Deletion of the study, then the retention purge when its timer falls due.
        await Expect(host, host.Request(HttpMethod.Delete, $"/registrations/{registrationId}/studies/{deletedUid}", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.Accepted);
        await WaitForStatusAsync(host, registrationId, s => Studies(s).Any(x => x.GetProperty("studyInstanceUid").GetString() == deletedUid && x.GetProperty("status").GetString() == "Deleted"));
        var flowDone = clock.Elapsed;
        Assert.True(DateTimeOffset.UtcNow < startsAt.AddDays(1), $"the flow took {flowDone.TotalSeconds:F1} s and outran the purge timer; raise {nameof(PurgeDelay)}");
        var purged = await WaitForStatusAsync(host, registrationId, s => s.TryGetProperty("purgedAt", out var at) && at.ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(45));
        Assert.Equal("Purged", purged.GetProperty("status").GetString());
        Assert.Equal("Purged", Studies(purged).Single(x => x.GetProperty("studyInstanceUid").GetString() == keptUid).GetProperty("status").GetString());

        // The trail: orchestration records follow the outbox dispatch, so wait for the last one.
        List<JsonElement> records = [];
        await WaitUntilAsync(
            async () =>
            {
                records = await AllRecordsAsync(host, "registrationId=" + registrationId);
                return records.Any(r => Type(r) == "Purged");
            },
            "the Purged record");

        var types = records.Select(Type).ToList();
        string[] onceEach =
        [
            "RegistrationRequested", "RegistrationStarted", "CandidatesReady", "SelectionRequested", "SelectionMade",
            "ExpertiseRequested", "ExpertiseSent",
            "StudyDeleteRequested", "StudyDeleted", "Purged", "Forbidden:RegistrationStatusRead",
        ];
        Assert.All(onceEach, t => Assert.True(types.Count(x => x == t) == 1, $"{t}: {types.Count(x => x == t)} records; trail: {string.Join(", ", types)}"));

        // Each site query and its outcome: one SiteSearched per site, naming the site.
        var searched = records.Where(r => Type(r) == "SiteSearched").ToList();
        Assert.Equal(host.SiteIds.Order(StringComparer.Ordinal), searched.Select(r => r.GetProperty("siteId").GetString()!).Order(StringComparer.Ordinal));
        Assert.Contains(searched, r => r.GetProperty("outcomeDescription").GetString()!.Contains("matched=2", StringComparison.Ordinal));

        // Every status read is audited (the polls above made several); the retrieval and store name the study and site.
        Assert.True(types.Count(t => t == "RegistrationStatusRead") >= 4, $"status reads: {types.Count(t => t == "RegistrationStatusRead")}");
        foreach (var (t, uids) in new[] { ("RetrievalStarted", studyUids), ("RetrievalCompleted", studyUids), ("StudyAvailable", studyUids), ("StudyDeleted", [deletedUid]) })
        {
            var ofType = records.Where(r => Type(r) == t).ToList();
            Assert.True(ofType.Count == uids.Length, $"{t}: {ofType.Count} records for {uids.Length} studies");
            Assert.All(ofType, r => Assert.Equal(host.SiteIds[0], r.GetProperty("siteId").GetString()));
            Assert.All(uids, uid => Assert.Single(ofType, r => r.GetProperty("participantObjects").EnumerateArray().Any(o => o.GetRawText().Contains(uid, StringComparison.Ordinal))));
        }

        Assert.Equal(["instances=1", "instances=2"], records.Where(r => Type(r) == "RetrievalCompleted").Select(r => r.GetProperty("outcomeDescription").GetString()!.Split(' ')[0]).Order(StringComparer.Ordinal));
        Assert.Contains("studies=1", records.Single(r => Type(r) == "Purged").GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.All(records.Where(r => Type(r) != "Forbidden:RegistrationStatusRead"), r => Assert.Equal(0, r.GetProperty("outcome").GetInt32()));

        // The refused registration is in the trail of the same patient, with its reason.
        var patientKey = records.Single(r => Type(r) == "RegistrationRequested").GetProperty("patientKey").GetString()!;
        var byPatient = await AllRecordsAsync(host, "patientKey=" + patientKey);
        Assert.Single(byPatient, r => Type(r) == "RegistrationRequested" && r.GetProperty("outcome").GetInt32() == 4
            && r.GetProperty("outcomeDescription").GetString()!.Contains("consent.noObjection=consent_required", StringComparison.Ordinal));

        // Order: by time, each milestone no earlier than the one before it; across separate requests/events, strictly later.
        (string Type, bool StrictlyAfterPrevious)[] milestones =
        [
            ("RegistrationRequested", false), ("RegistrationStarted", false), ("SiteSearched", true), ("CandidatesReady", false),
            ("SelectionRequested", true), ("SelectionMade", false), ("RetrievalStarted", false), ("RetrievalCompleted", true),
            ("StudyAvailable", true), ("ExpertiseRequested", true), ("ExpertiseSent", false), ("StudyDeleteRequested", true),
            ("StudyDeleted", false), ("Purged", true),
        ];
        var at = milestones.Select(m => (m.Type, m.StrictlyAfterPrevious, At: records.Where(r => Type(r) == m.Type).Min(Time))).ToList();
        var timeline = string.Join(" | ", at.Select(m => $"{m.Type}@{m.At:HH:mm:ss.fff}"));
        for (var i = 1; i < at.Count; i++)
        {
            Assert.True(at[i - 1].At <= at[i].At, $"{at[i - 1].Type} after {at[i].Type}: {timeline}");
            if (at[i].StrictlyAfterPrevious)
            {
                Assert.True(at[i - 1].At < at[i].At, $"{at[i].Type} not strictly after {at[i - 1].Type}: {timeline}");
            }
        }

        // Every site's outcome precedes the selection. (Not asserted against CandidatesReady: orchestration records carry
        // the time of the event applied, i.e. the relay's send time, and two sites' answers may be applied out of that
        // order, so the fan-in record can be stamped earlier than the other site's SiteSearched.) The purge is last.
        Assert.True(searched.Max(Time) < at.Single(m => m.Type == "SelectionRequested").At, timeline);
        var lastAction = records.Where(r => !Type(r).Contains("Read", StringComparison.Ordinal)).MaxBy(Time);
        Assert.True(Type(lastAction) == "Purged", $"last action: {Type(lastAction)}@{Time(lastAction):HH:mm:ss.fff}; {timeline}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"took {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static object Meeting(string title, DateTimeOffset startsAt) => new
    {
        title,
        startsAt = startsAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        site = "CHU Nord",
        capacity = 20,
        defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
        onCallRadiologist = new { name = "Radio Garde", email = "radio@example.org" },
        onCallNuclearPhysician = (object?)null,
        autoSelect = new { mode = "Manual", maxStudies = 0 },
        retentionDays = 1,
    };

    private static object Registration(SeededPatient patient, bool consent) => new
    {
        patient = new
        {
            birthName = patient.Identity.BirthName,
            usageName = (string?)null,
            firstName = patient.Identity.FirstName,
            birthDate = patient.Identity.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            sex = "Female",
            ins = (object?)null,
        },
        consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = consent },
        requester = new { id = "dr-1", name = "Dr Demandeur", email = (string?)null },
        filterOverride = (object?)null,
        expertiseRequested = false,
    };

    private static string Type(JsonElement record) => record.GetProperty("eventType").GetString()!;

    private static DateTimeOffset Time(JsonElement record) => record.GetProperty("dateTime").GetDateTimeOffset();

    private static List<JsonElement> Studies(JsonElement status) => [.. status.GetProperty("studies").EnumerateArray()];

    private static async Task<JsonElement> Expect(ApiHost host, HttpRequestMessage request, HttpStatusCode expected)
    {
        var (response, body) = await host.SendAsync(request);
        Assert.True(expected == response.StatusCode, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static async Task<JsonElement> WaitForStatusAsync(ApiHost host, string registrationId, Func<JsonElement, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? StepDeadline);
        JsonElement status;
        do
        {
            status = await Expect(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.OK);
            bool reached;
            try
            {
                reached = done(status);
            }
            catch (KeyNotFoundException)
            {
                throw new InvalidOperationException("unexpected status shape: " + status.GetRawText());
            }

            if (reached)
            {
                return status;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail("registration did not reach the expected state; last status: " + status.GetRawText());
        return status;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + StepDeadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(250);
        }
    }

    private async Task<List<JsonElement>> MailsAsync(string subjectPart)
    {
        var all = await maildev.GetFromJsonAsync<List<JsonElement>>("api/email");
        return [.. all!.Where(m => m.GetProperty("subject").GetString()!.Contains(subjectPart, StringComparison.Ordinal))];
    }

    private static async Task<List<JsonElement>> AllRecordsAsync(ApiHost host, string query)
    {
        var records = new List<JsonElement>();
        string? token = null;
        for (var page = 0; page < 50; page++)
        {
            var url = "/audit?" + query + "&pageSize=100" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            var body = await Expect(host, host.Request(HttpMethod.Get, url, ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.OK);
            records.AddRange(body.GetProperty("records").EnumerateArray());
            token = body.TryGetProperty("continuationToken", out var next) ? next.GetString() : null;
            if (token is null)
            {
                break;
            }
        }

        return records;
    }
}
