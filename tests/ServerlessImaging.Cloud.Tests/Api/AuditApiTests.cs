using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// A full API flow, then what the auditors see: every action in the trail (API and orchestration records),
/// search by strong traits, FHIR export, paging; and every log line of the flow free of patient data.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AuditApiTests(LocalStackFixture stack) : IAsyncLifetime
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);
    private readonly ApiSamples samples = new();
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private async Task<JsonElement> SendOkAsync(HttpRequestMessage request, HttpStatusCode expected)
    {
        var (method, uri) = (request.Method, request.RequestUri);
        var (response, body) = await host.SendAsync(request);
        Assert.True(expected == response.StatusCode, $"{method} {uri}: {(int)response.StatusCode}; app errors: {string.Join(" | ", host.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)))}");
        return body;
    }

    /// <summary>Meeting, a refused and an accepted registration, status read, both sites answer, selection, deletion, refresh, expertise request.</summary>
    private async Task<string> RunFlowAsync()
    {
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        await SendOkAsync(host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting(), subject: "coordinator-1"), HttpStatusCode.OK);
        await SendOkAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(consent: false), subject: "rcp-software"), HttpStatusCode.UnprocessableEntity);
        var accepted = await SendOkAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), Guid.NewGuid().ToString(), subject: "rcp-software"), HttpStatusCode.Accepted);
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        await SendOkAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.OK);

        var uids = new List<string>();
        foreach (var site in host.SiteIds)
        {
            var uid = UniqueNames.DicomUid();
            uids.Add(uid);
            var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-" + site, null, new DateOnly(1961, 4, 2), "F", []);
            await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite($"evt-{uid}", DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(patient, uid, new DateOnly(2029, 1, 5), "IRM", ["MR"], 1, 10)]));
        }

        await SendOkAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = uids }, subject: "rcp-software"), HttpStatusCode.Accepted);
        await SendOkAsync(host.Request(HttpMethod.Delete, $"/registrations/{registrationId}/studies/{uids[1]}", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.Accepted);
        await SendOkAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/refresh", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.Accepted);
        await SendOkAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar, subject: "rcp-software"), HttpStatusCode.Accepted);
        await SendOkAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Auditor, subject: "curious-auditor"), HttpStatusCode.Forbidden);
        await host.SettleAsync(registrationId); // the orchestration records its steps as it applies them
        return registrationId;
    }

    private async Task<List<JsonElement>> AllRecordsAsync(string query)
    {
        var records = new List<JsonElement>();
        string? token = null;
        for (var page = 0; page < 50; page++)
        {
            var url = "/audit?" + query + "&pageSize=7" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            var body = await SendOkAsync(host.Request(HttpMethod.Get, url, ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.OK);
            records.AddRange(body.GetProperty("records").EnumerateArray());
            token = body.TryGetProperty("continuationToken", out var next) ? next.GetString() : null;
            if (token is null)
            {
                break;
            }
        }

        return records;
    }

    private static string Type(JsonElement record) => record.GetProperty("eventType").GetString()!;

    [Fact]
    public async Task After_a_full_flow_the_trail_verifies_intact_by_registration_and_by_range_and_a_signed_anchor_is_exported()
    {
        var startedAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        var registrationId = await RunFlowAsync();

        var byRegistration = await SendOkAsync(host.Request(HttpMethod.Get, $"/audit/verification?registrationId={registrationId}", ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.OK);
        Assert.True(byRegistration.GetProperty("intact").GetBoolean(), byRegistration.ToString());
        Assert.True(byRegistration.GetProperty("recordsChecked").GetInt32() >= 10, byRegistration.ToString());
        Assert.DoesNotContain(byRegistration.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() is not ("Unsealed" or "Legacy"));

        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddSeconds(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var from = Uri.EscapeDataString(startedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var byRange = await SendOkAsync(host.Request(HttpMethod.Get, $"/audit/verification?from={from}&to={to}", ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.OK);
        Assert.True(byRange.GetProperty("intact").GetBoolean(), byRange.ToString());
        Assert.True(byRange.GetProperty("recordsSealed").GetInt32() >= byRegistration.GetProperty("recordsSealed").GetInt32());

        await SendOkAsync(host.Request(HttpMethod.Get, $"/audit/verification?from={to}&to={from}", ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.UnprocessableEntity);
        await SendOkAsync(host.Request(HttpMethod.Get, $"/audit/verification?registrationId={registrationId}&from={from}", ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.UnprocessableEntity);

        var exported = await SendOkAsync(host.Request(HttpMethod.Get, "/audit/anchor", ApiRoles.Auditor, subject: "auditor-1"), HttpStatusCode.OK);
        var anchor = exported.GetProperty("anchor").Deserialize<ServerlessImaging.Orchestration.Audit.Integrity.AuditChainAnchor>(WebJson)!;
        var publicKey = Convert.FromBase64String(exported.GetProperty("publicKey").GetString()!);
        Assert.True(ServerlessImaging.Orchestration.Audit.Integrity.AuditAnchors.IsSignedBy(anchor, publicKey));
        Assert.StartsWith("local:", anchor.KeyId, StringComparison.Ordinal);
        Assert.True(anchor.Head.Position >= byRange.GetProperty("lastBlock").GetInt64());
    }

    [Fact]
    public async Task Every_action_of_a_flow_is_in_the_trail_and_findable_by_registration_patient_and_user()
    {
        var registrationId = await RunFlowAsync();

        // The orchestration's own records are written by its steps' activities.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<JsonElement> records;
        do
        {
            records = await AllRecordsAsync("registrationId=" + registrationId);
        }
        while (!records.Any(r => Type(r) == "StudyDeleted") && DateTime.UtcNow < deadline && await Delay());

        var types = records.Select(Type).ToHashSet(StringComparer.Ordinal);
        string[] expected =
        [
            "RegistrationRequested", "RegistrationStatusRead", "SelectionRequested", "StudyDeleteRequested", "RefreshRequested", "ExpertiseRequested", // API
            "RegistrationStarted", "SiteSearched", "CandidatesReady", "SelectionMade", "RetrievalStarted", "StudyDeleted", "Refreshed", // orchestration
        ];
        Assert.All(expected, t => Assert.Contains(t, types));
        Assert.Contains(records, r => Type(r) == "Forbidden:RegistrationStatusRead" && r.GetProperty("eventId").GetProperty("code").GetString() == "110113");

        var registered = records.First(r => Type(r) == "RegistrationRequested");
        Assert.Equal("110110", registered.GetProperty("eventId").GetProperty("code").GetString());
        Assert.Equal("C", registered.GetProperty("actionCode").GetString());
        Assert.Equal(0, registered.GetProperty("outcome").GetInt32());
        Assert.Equal("rcp-software", registered.GetProperty("userId").GetString());
        var patientKey = registered.GetProperty("patientKey").GetString()!;
        Assert.StartsWith("pk1-", patientKey, StringComparison.Ordinal);
        Assert.All(records.Where(r => r.TryGetProperty("patientKey", out _)), r => Assert.Equal(patientKey, r.GetProperty("patientKey").GetString()));
        Assert.Equal("D", records.First(r => Type(r) == "StudyDeleteRequested").GetProperty("actionCode").GetString());

        // The refused registration (no consent) is audited too, by user.
        var byUser = await AllRecordsAsync("userId=rcp-software");
        Assert.Contains(byUser, r => Type(r) == "RegistrationRequested" && r.GetProperty("outcome").GetInt32() == 4
            && r.GetProperty("patientKey").GetString() == patientKey && r.GetProperty("outcomeDescription").GetString()!.Contains("consent.noObjection=consent_required", StringComparison.Ordinal));

        // Search by strong traits: body only, answer carries the key, finds the same records.
        var found = await SendOkAsync(host.Request(HttpMethod.Post, "/audit/patient-search", ApiRoles.Auditor, samples.PatientSearch(), subject: "auditor-1"), HttpStatusCode.OK);
        Assert.Equal(patientKey, found.GetProperty("patientKey").GetString());
        Assert.Contains(found.GetProperty("records").EnumerateArray(), r => Type(r) == "RegistrationRequested");
        var byKey = await AllRecordsAsync("patientKey=" + patientKey);
        Assert.Contains(byKey, r => Type(r) == "RegistrationStarted");

        // Time range excludes everything when it is in the past.
        var old = await SendOkAsync(host.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", ApiRoles.Auditor), HttpStatusCode.OK);
        Assert.Equal(0, old.GetProperty("records").GetArrayLength());

        // Reading the trail is audited (110101).
        var auditReads = await AllRecordsAsync("userId=auditor-1");
        Assert.Contains(auditReads, r => r.GetProperty("eventId").GetProperty("code").GetString() == "110101");

        // No record carries the patient's data.
        foreach (var value in samples.PatientData)
        {
            Assert.DoesNotContain(value, string.Join('\n', records.Concat(byUser).Select(r => r.GetRawText())), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task A_refused_registration_is_filed_under_the_id_it_would_have_had_with_the_callers_key_user_and_reason()
    {
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        await SendOkAsync(host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting(), subject: "coordinator-1"), HttpStatusCode.OK);
        var (refusedKey, malformedKey) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        await SendOkAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(consent: false), refusedKey, subject: "rcp-refused"), HttpStatusCode.UnprocessableEntity);
        await SendOkAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, "{\"patient\": 1}", malformedKey, subject: "rcp-refused"), HttpStatusCode.BadRequest);

        var records = (await AllRecordsAsync("userId=rcp-refused")).Where(r => Type(r) == "RegistrationRequested").ToList();
        JsonElement ByKey(string key) => Assert.Single(records, r => r.GetProperty("participantObjects").EnumerateArray()
            .Any(o => o.GetProperty("idTypeCode").GetString() == "idempotency-key" && o.GetProperty("id").GetString() == key));

        var refused = ByKey(refusedKey);
        var registrationId = refused.GetProperty("registrationId").GetString()!;
        Assert.StartsWith("reg-", registrationId, StringComparison.Ordinal);
        Assert.Equal(4, refused.GetProperty("outcome").GetInt32());
        Assert.Contains("consent.noObjection=consent_required", refused.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.Single(await AllRecordsAsync("registrationId=" + registrationId));

        var malformed = ByKey(malformedKey);
        Assert.StartsWith("reg-", malformed.GetProperty("registrationId").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(registrationId, malformed.GetProperty("registrationId").GetString());
        Assert.Contains("malformed", malformed.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deletion_the_dicom_service_refuses_leaves_a_failure_record_after_the_decision()
    {
        // Orthanc's DICOMweb plugin answers DELETE with 405; without the local REST fallback that is a refusal for good.
        await using var refusing = await ApiHost.StartAsync(stack, new Dictionary<string, string?> { ["DicomWeb:OrthancRestUrl"] = string.Empty });
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        Assert.Equal(HttpStatusCode.OK, (await refusing.SendAsync(refusing.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting()))).Response.StatusCode);
        var (_, accepted) = await refusing.SendAsync(refusing.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration()));
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        var uid = UniqueNames.DicomUid();
        var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-1", null, new DateOnly(1961, 4, 2), "F", []);
        foreach (var site in refusing.SiteIds)
        {
            await refusing.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite($"evt-{site}", DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(patient, uid, new DateOnly(2029, 1, 5), "IRM", ["MR"], 1, 10)]));
        }

        Assert.Equal(HttpStatusCode.Accepted, (await refusing.SendAsync(refusing.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = new[] { uid } }))).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await refusing.SendAsync(refusing.Request(HttpMethod.Delete, $"/registrations/{registrationId}/studies/{uid}", ApiRoles.Registrar, subject: "rcp-software"))).Response.StatusCode);

        // The deletion runs as an activity; its refusal comes back as a step of its own.
        var records = new List<JsonElement>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!records.Any(r => Type(r) == "StudyDeletionFailed") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            var (_, page) = await refusing.SendAsync(refusing.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}&pageSize=200", ApiRoles.Auditor));
            records = [.. page.GetProperty("records").EnumerateArray()];
        }

        var decided = Assert.Single(records, r => Type(r) == "StudyDeletionStarted");
        var failed = Assert.Single(records, r => Type(r) == "StudyDeletionFailed");
        Assert.DoesNotContain(records, r => Type(r) == "StudyDeleted");
        Assert.Equal((8, "rcp-software"), (failed.GetProperty("outcome").GetInt32(), failed.GetProperty("userId").GetString()));
        Assert.StartsWith("dicom_service_405: ", failed.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.True(decided.GetProperty("sequence").GetInt64() < failed.GetProperty("sequence").GetInt64());

        var (_, status) = await refusing.SendAsync(refusing.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
        var study = Assert.Single(status.GetProperty("studies").EnumerateArray());
        Assert.Equal(("Deleted", "removal_failed"), (study.GetProperty("status").GetString(), study.GetProperty("failure").GetProperty("code").GetString()));
    }

    [Fact]
    public async Task A_page_exports_as_a_fhir_bundle_of_audit_events_by_route_and_by_accept_header()
    {
        var registrationId = await RunFlowAsync();
        var (response, bundle) = await host.SendAsync(host.Request(HttpMethod.Get, $"/audit/fhir?registrationId={registrationId}&pageSize=3", ApiRoles.Auditor));
        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", host.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))));
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bundle", bundle.GetProperty("resourceType").GetString());
        Assert.Equal("searchset", bundle.GetProperty("type").GetString());
        var entries = bundle.GetProperty("entry").EnumerateArray().ToList();
        Assert.Equal(3, entries.Count);
        var audit = entries[0].GetProperty("resource");
        Assert.Equal("AuditEvent", audit.GetProperty("resourceType").GetString());
        Assert.Equal("http://dicom.nema.org/resources/ontology/DCM", audit.GetProperty("type").GetProperty("system").GetString());
        Assert.Contains(audit.GetProperty("action").GetString(), new[] { "C", "R", "U", "D", "E" });
        Assert.Contains(audit.GetProperty("outcome").GetString(), new[] { "0", "4", "8", "12" });
        var next = bundle.GetProperty("link").EnumerateArray().Single(l => l.GetProperty("relation").GetString() == "next").GetProperty("url").GetString()!;
        Assert.Contains("continuationToken=", next, StringComparison.Ordinal);
        var (nextResponse, nextBundle) = await host.SendAsync(host.Request(HttpMethod.Get, next, ApiRoles.Auditor));
        Assert.True(nextResponse.StatusCode == HttpStatusCode.OK, string.Join("\n", host.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))));
        Assert.DoesNotContain(
            nextBundle.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource").GetProperty("id").GetString()),
            id => entries.Any(e => e.GetProperty("resource").GetProperty("id").GetString() == id));

        var byAccept = host.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}&pageSize=2", ApiRoles.Auditor);
        byAccept.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        var (acceptResponse, acceptBundle) = await host.SendAsync(byAccept);
        Assert.Equal("application/fhir+json", acceptResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, acceptBundle.GetProperty("entry").GetArrayLength());
    }

    [Fact]
    public async Task Bad_audit_queries_get_field_errors_and_names_are_refused_as_patient_keys()
    {
        var (badDate, problem) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?from=yesterday&pageSize=9999", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badDate.StatusCode);
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "from");
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "pageSize");

        var (name, nameProblem) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?patientKey=" + samples.BirthName, ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, name.StatusCode);
        Assert.DoesNotContain(samples.BirthName, nameProblem.GetRawText(), StringComparison.OrdinalIgnoreCase);

        var (token, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?continuationToken=forged", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, token.StatusCode);

        var (missingTraits, traitsProblem) = await host.SendAsync(host.Request(HttpMethod.Post, "/audit/patient-search", ApiRoles.Auditor, new { birthName = " ", firstName = "A", birthDate = "1961-04-02", sex = "Female" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missingTraits.StatusCode);
        Assert.Contains(traitsProblem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "birthName");
    }

    [Fact]
    public async Task No_log_line_of_a_full_flow_carries_a_patient_name_or_birth_date()
    {
        await RunFlowAsync();
        await SendOkAsync(host.Request(HttpMethod.Post, "/audit/patient-search", ApiRoles.Auditor, samples.PatientSearch()), HttpStatusCode.OK);
        var lines = host.Logs.Lines.ToList();
        Assert.True(lines.Count > 20, $"only {lines.Count} log lines were captured");
        Assert.Contains(lines, l => l.Contains("/registrations", StringComparison.Ordinal)); // the request logs are really captured
        foreach (var value in samples.PatientData)
        {
            var leaking = lines.Where(l => l.Contains(value, StringComparison.OrdinalIgnoreCase)).Take(3).ToList();
            Assert.True(leaking.Count == 0, $"patient data in logs: {string.Join(" | ", leaking.Select(l => l.Replace(value, "<LEAK>", StringComparison.OrdinalIgnoreCase)))}");
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}
