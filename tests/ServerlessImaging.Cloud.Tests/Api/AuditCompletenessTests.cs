using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FhirModel = Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Validation;
using ServerlessImaging.Cloud.Api.AuditTrail;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Dicom;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// Issue 7, audit completeness: one full registration through the HTTP API with relays answering (scripted relays
/// C-FIND/C-GET the real site PACS and upload to staging with the command's SAS), the runtime storing into the
/// DICOM service, the expertise e-mail landing in maildev, a deletion and the retention purge (the meeting is set
/// so that its purge timer falls due a few seconds after the flow). Then the trail must hold a record per action,
/// each outcome recorded after the work was done (e-mail accepted by SMTP, DELETE done, purge done), retrieval and
/// store apart, numbered without gaps in the order GET /audit returns them, and the FHIR export must validate.
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
        var eventsQueuePrefix = UniqueNames.QueuePrefix("auditev");
        await using var host = await ApiHost.StartAsync(
            stack,
            new Dictionary<string, string?>
            {
                ["Orchestration:EventsQueuePrefix"] = eventsQueuePrefix,
                ["DurableTask:MaxQueuePollingInterval"] = "00:00:00.250",
                ["DicomWeb:OrthancRestUrl"] = stack.Endpoints.DicomService.HttpUrl.ToString(),
            },
            withWorkers: true);
        await using var relayNord = ScriptedRelay.Start(stack.Endpoints, host.SiteIds[0], nord, eventsQueuePrefix + host.SiteIds[0]);
        await using var relaySud = ScriptedRelay.Start(stack.Endpoints, host.SiteIds[1], sud, eventsQueuePrefix + host.SiteIds[1]);

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

        // The imaging manifest (Key Object Selection), published into the DICOM service once both studies are there:
        // exactly the instances the DICOM service holds for the available studies, with the registration's patient;
        // served as DICOM and as DICOM JSON.
        await WaitForStatusAsync(host, registrationId, s => s.TryGetProperty("manifest", out var m) && m.ValueKind == JsonValueKind.Object
            && !m.GetProperty("publishing").GetBoolean() && m.GetProperty("instancesListed").GetInt32() == 3);
        var manifestRequest = host.Request(HttpMethod.Get, $"/registrations/{registrationId}/manifest", ApiRoles.Registrar, subject: "rcp-software");
        manifestRequest.Headers.Accept.ParseAdd("application/dicom");
        using (var manifestResponse = await host.Client.SendAsync(manifestRequest))
        {
            Assert.Equal(HttpStatusCode.OK, manifestResponse.StatusCode);
            Assert.Equal("application/dicom", manifestResponse.Content.Headers.ContentType!.MediaType);
            var manifest = (await DicomFile.OpenAsync(await manifestResponse.Content.ReadAsStreamAsync())).Dataset;
            Assert.Equal(KeyObjectSelectionDocument.SopClassUid, manifest.GetString(DicomTag.SOPClassUID));
            Assert.Equal(patient.Identity.BirthDate, manifest.GetDate(DicomTag.PatientBirthDate));
            var listed = manifest.GetSequence(DicomTag.CurrentRequestedProcedureEvidenceSequence).Items
                .SelectMany(study => study.GetSequence(DicomTag.ReferencedSeriesSequence).Items)
                .SelectMany(series => series.GetSequence(DicomTag.ReferencedSOPSequence).Items.Select(sop => sop.GetString(DicomTag.ReferencedSOPInstanceUID)));
            var held = new List<string>();
            foreach (var study in studyUids)
            {
                held.AddRange(await Scenario.StoredInstancesAsync(stack.Endpoints, study));
            }

            Assert.Equal(patient.InstancesByStudy.Values.SelectMany(v => v).Order(StringComparer.Ordinal), held.Order(StringComparer.Ordinal));
            Assert.Equal(held.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
            Assert.Equal([manifest.GetString(DicomTag.SOPInstanceUID)], await Scenario.StoredInstancesAsync(stack.Endpoints, manifest.GetString(DicomTag.StudyInstanceUID)!));
        }

        var (jsonManifest, jsonBody) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}/manifest", ApiRoles.Registrar, subject: "rcp-software"));
        Assert.Equal(HttpStatusCode.OK, jsonManifest.StatusCode);
        Assert.Equal("application/dicom+json", jsonManifest.Content.Headers.ContentType!.MediaType);
        Assert.Equal("KO", jsonBody[0].GetProperty("00080060").GetProperty("Value")[0].GetString());

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

        // The trail: orchestration records are written by its steps' activities, so wait for the last one.
        List<JsonElement> records = [];
        await WaitUntilAsync(
            async () =>
            {
                records = await AllRecordsAsync(host, "registrationId=" + registrationId);
                return records.Any(r => Type(r) == "Purged") && records.Any(r => Type(r) == "ManifestWithdrawn");
            },
            "the Purged and ManifestWithdrawn records");

        var types = records.Select(Type).ToList();
        var trail = string.Join(", ", types);
        string[] onceEach =
        [
            "RegistrationRequested", "RegistrationStarted", "CandidatesReady", "SelectionRequested", "SelectionMade",
            "ExpertiseRequested", "ExpertiseSent", "StudyDeleteRequested", "StudyDeletionStarted", "StudyDeleted",
            "PurgeStarted", "Purged", "ManifestWithdrawn", "Forbidden:RegistrationStatusRead",
        ];
        Assert.All(onceEach, t => Assert.True(types.Count(x => x == t) == 1, $"{t}: {types.Count(x => x == t)} records; trail: {trail}"));
        Assert.DoesNotContain(types, t => t.EndsWith("Failed", StringComparison.Ordinal));

        // Order, as GET /audit returns it: recorded-at never goes back; each orchestration's records (the registration's,
        // each study transfer's, told apart by their stream) are numbered 1, 2, 3… in that same order, with no gap (an
        // auditor can tell that nothing is missing).
        Assert.All(records.Zip(records.Skip(1)), p => Assert.True(RecordedAt(p.First) <= RecordedAt(p.Second), $"{Type(p.First)} recorded after {Type(p.Second)}; trail: {trail}"));
        var sequenced = records.Where(r => Sequence(r) is not null).ToList();
        foreach (var stream in sequenced.GroupBy(Stream))
        {
            Assert.Equal(Enumerable.Range(1, stream.Count()).Select(i => (long?)i), stream.Select(Sequence));
        }

        Assert.All(records.Where(r => Sequence(r) is null), r => Assert.Equal("serverless-imaging-api", r.GetProperty("auditSource").GetString()));
        long Seq(string type) => Sequence(records.Single(r => Type(r) == type && Stream(r) is null))!.Value;

        // Each site query and its outcome: one SiteSearched per site, naming the site, before the fan-in.
        var searched = records.Where(r => Type(r) == "SiteSearched").ToList();
        Assert.Equal(host.SiteIds.Order(StringComparer.Ordinal), searched.Select(r => r.GetProperty("siteId").GetString()!).Order(StringComparer.Ordinal));
        Assert.Contains(searched, r => r.GetProperty("outcomeDescription").GetString()!.Contains("matched=2", StringComparison.Ordinal));
        Assert.All(searched, r => Assert.InRange(Sequence(r)!.Value, Seq("RegistrationStarted") + 1, Seq("CandidatesReady") - 1));
        Assert.True(Seq("CandidatesReady") < Seq("SelectionMade"), trail);

        // Every status read is audited (the polls above made several).
        Assert.True(types.Count(t => t == "RegistrationStatusRead") >= 4, $"status reads: {types.Count(t => t == "RegistrationStatusRead")}");

        // Each retrieval (relay done: site, AE titles, instances) and each store (STOW-RS verified by QIDO-RS) is its
        // own record, per study, in that order.
        foreach (var uid in studyUids)
        {
            JsonElement Of(string type) => Assert.Single(records, r => Type(r) == type && StudiesOf(r).Contains(uid));
            var (started, retrieved, stored) = (Of("RetrievalStarted"), Of("RetrievalCompleted"), Of("StudyStored"));
            Assert.True(RecordedAt(started) > RecordedAt(records.Single(r => Type(r) == "SelectionMade")) && Sequence(started) < Sequence(retrieved) && Sequence(retrieved) < Sequence(stored), trail);
            Assert.Single(new[] { started, retrieved, stored }.Select(Stream).Distinct());
            Assert.All([started, retrieved, stored], r => Assert.Equal(host.SiteIds[0], r.GetProperty("siteId").GetString()));
            Assert.Equal(("110102", "110104", "110107"), (Code(started), Code(retrieved), Code(stored)));
            Assert.Contains(retrieved.GetProperty("activeParticipants").EnumerateArray(), p => Participant(p) == ("ae", nord.AeTitle, "source"));
            Assert.Contains(retrieved.GetProperty("activeParticipants").EnumerateArray(), p => Participant(p) == ("ae", ScriptedRelay.CallingAeTitle, "destination"));
            Assert.Contains(stored.GetProperty("activeParticipants").EnumerateArray(), p => Participant(p) == ("application", "dicom-service", "destination"));
            var instances = patient.InstancesByStudy[uid].Count;
            Assert.StartsWith($"instances={instances} ", retrieved.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
            Assert.Equal($"instances={instances} sentNow={instances} verifiedByQido={instances}", stored.GetProperty("outcomeDescription").GetString());
        }

        // The e-mail: recorded once, as the message maildev received, after the first study was stored.
        var mail = Assert.Single(await MailsAsync(title));
        var emailed = records.Single(r => Type(r) == "ExpertiseSent");
        Assert.Equal(("110106", 0), (Code(emailed), emailed.GetProperty("outcome").GetInt32()));
        Assert.Contains(emailed.GetProperty("participantObjects").EnumerateArray(), o => o.GetProperty("idTypeCode").GetString() == "message-id" && o.GetProperty("id").GetString() == mail.GetProperty("headers").GetProperty("message-id").GetString()!.Trim('<', '>'));
        Assert.Contains(emailed.GetProperty("activeParticipants").EnumerateArray(), p => Participant(p) == ("recipient", "radio@example.org", "destination"));
        Assert.True(records.Where(r => Type(r) == "StudyStored").Min(RecordedAt) < RecordedAt(emailed), trail);

        // The deletion: who asked, at decision; then the removal, once the DICOM service's DELETE succeeded.
        var (deletionStarted, deleted) = (records.Single(r => Type(r) == "StudyDeletionStarted"), records.Single(r => Type(r) == "StudyDeleted"));
        Assert.All([deletionStarted, deleted], r => Assert.Equal(("110105", "D", "rcp-software", deletedUid), (Code(r), r.GetProperty("actionCode").GetString(), r.GetProperty("userId").GetString(), StudiesOf(r).Single())));
        Assert.True(Sequence(deletionStarted) < Sequence(deleted), trail);
        Assert.Empty(await QidoStudiesAsync(deletedUid));

        // The purge: decided when its timer fell due, recorded done after the purge activity; it is the last action.
        Assert.True(Seq("StudyDeleted") < Seq("PurgeStarted") && Seq("PurgeStarted") < Seq("Purged"), trail);
        var purgedRecord = records.Single(r => Type(r) == "Purged");
        Assert.StartsWith("studies=1 ", purgedRecord.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.Equal([keptUid], StudiesOf(purgedRecord));
        Assert.Equal(sequenced.Count(r => Stream(r) is null), Math.Max(Seq("Purged"), Seq("ManifestWithdrawn")));

        // The manifest: a revision per change of the available studies (the first after the first store), the last one
        // without the deleted study; withdrawn from the DICOM service by the purge.
        var publications = records.Where(r => Type(r) == "ManifestPublished").ToList();
        Assert.InRange(publications.Count, 2, 3);
        Assert.All(publications, r => Assert.Equal(("110103", "C"), (Code(r), r.GetProperty("actionCode").GetString())));
        Assert.True(records.Where(r => Type(r) == "StudyStored").Min(Sequence) < Sequence(publications[0]), trail);
        Assert.Equal([keptUid], StudiesOf(publications[^1]).Where(uid => studyUids.Contains(uid)));
        Assert.True(Seq("StudyDeletionStarted") < Sequence(publications[^1]) && Seq("PurgeStarted") < Seq("ManifestWithdrawn"), trail);
        Assert.Empty(await QidoStudiesAsync(keptUid));
        Assert.Empty(await QidoStudiesAsync(ServerlessImaging.Cloud.Activities.RegistrationManifest.StudyUidOf(registrationId)));
        Assert.All(records.Where(r => Type(r) != "Forbidden:RegistrationStatusRead"), r => Assert.Equal(0, r.GetProperty("outcome").GetInt32()));

        // A request arrives before what it caused is recorded.
        foreach (var (request, effect) in new[] { ("RegistrationRequested", "RegistrationStarted"), ("SelectionRequested", "SelectionMade"), ("ExpertiseRequested", "ExpertiseSent"), ("StudyDeleteRequested", "StudyDeletionStarted") })
        {
            Assert.True(EventTime(records.Single(r => Type(r) == request)) <= RecordedAt(records.Single(r => Type(r) == effect)), $"{request} after {effect}");
        }

        // The refused registration is in the trail of the same patient, filed under the id it would have had, with
        // the user and the reason.
        var patientKey = records.Single(r => Type(r) == "RegistrationRequested").GetProperty("patientKey").GetString()!;
        var byPatient = await AllRecordsAsync(host, "patientKey=" + patientKey);
        var refusedRecord = Assert.Single(byPatient, r => Type(r) == "RegistrationRequested" && r.GetProperty("outcome").GetInt32() == 4);
        Assert.Contains("consent.noObjection=consent_required", refusedRecord.GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.Equal("rcp-software", refusedRecord.GetProperty("userId").GetString());
        Assert.StartsWith("reg-", refusedRecord.GetProperty("registrationId").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(registrationId, refusedRecord.GetProperty("registrationId").GetString());

        // The same page as FHIR R4: it parses and validates, in the same order, with the sequence as an extension.
        var (fhirResponse, _) = await host.SendAsync(host.Request(HttpMethod.Get, $"/audit/fhir?registrationId={registrationId}&pageSize=500", ApiRoles.Auditor, subject: "auditor-1"));
        var bundle = JsonSerializer.Deserialize<FhirModel.Bundle>(await fhirResponse.Content.ReadAsStringAsync(), new JsonSerializerOptions().ForFhir(FhirModel.ModelInfo.ModelInspector))!;
        Assert.Empty(bundle.Validate(FhirModel.ModelInfo.ModelInspector));
        var events = bundle.Entry.Select(e => e.Resource).OfType<FhirModel.AuditEvent>().ToList();
        Assert.Equal(records.Select(r => r.GetProperty("id").GetString()), events.Select(e => e.Id));
        Assert.Equal(sequenced.Select(Sequence), events.Select(e => (long?)(e.Extension.SingleOrDefault(x => x.Url == FhirAuditExport.SequenceExtensionUrl)?.Value as FhirModel.Integer)?.Value).Where(v => v is not null));
        Assert.Equal(records.Select(RecordedAt), events.Select(e => e.Recorded!.Value));
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

    private static string Code(JsonElement record) => record.GetProperty("eventId").GetProperty("code").GetString()!;

    private static DateTimeOffset EventTime(JsonElement record) => record.GetProperty("dateTime").GetDateTimeOffset();

    private static DateTimeOffset RecordedAt(JsonElement record) => record.GetProperty("recordedAt").GetDateTimeOffset();

    private static string? Stream(JsonElement record) => record.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.String ? stream.GetString() : null;

    private static long? Sequence(JsonElement record) => record.TryGetProperty("sequence", out var sequence) ? sequence.GetInt64() : null;

    private static List<string> StudiesOf(JsonElement record) =>
        [.. record.GetProperty("participantObjects").EnumerateArray().Where(o => o.GetProperty("idTypeCode").GetString() == "110180").Select(o => o.GetProperty("id").GetString()!)];

    private static (string?, string?, string?) Participant(JsonElement participant) =>
        (participant.GetProperty("kind").GetString(), participant.GetProperty("userId").GetString(), participant.TryGetProperty("role", out var role) ? role.GetString() : null);

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

    // QIDO-RS on the DICOM service itself: what it still holds of a study.
    private async Task<List<JsonElement>> QidoStudiesAsync(string studyUid)
    {
        using var response = await maildev.GetAsync(new Uri(stack.Endpoints.DicomService.DicomWebBaseUrl, "studies?StudyInstanceUID=" + Uri.EscapeDataString(studyUid)));
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStringAsync();
        return body.Length == 0 ? [] : [.. JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.Clone())];
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
