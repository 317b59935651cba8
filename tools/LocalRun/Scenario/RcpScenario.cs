using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;

namespace ServerlessImaging.LocalRun.Scenario;

/// <summary>What the RCP scenario observed through the API.</summary>
internal sealed record ScenarioOutcome(string RegistrationId, int Candidates, int NearMissesRejected, IReadOnlyList<string> SelectedStudies, int EmailsReceived, int AuditRecords, IReadOnlyList<string> ImagingManifestInstances)
{
    /// <summary>SOP Instance UIDs the meeting site's PACS holds for the selected studies (C-FIND), when the stack has one.</summary>
    public IReadOnlyList<string>? DeliveredInstances { get; init; }

    /// <summary>Whether the meeting site's PACS holds the published manifest document.</summary>
    public bool ManifestDelivered { get; init; }
}

/// <summary>
/// The RCP software's side: meeting, registration with consent, search progress, selection, retrieval until
/// available, expertise request (checked in maildev) and the patient's audit trail.
/// </summary>
internal sealed class RcpScenario(ApiSession api, StackEndpoints stack, ScenarioPatient chosen, IReadOnlyList<string> manifestNearMisses, DateTimeOffset startedAt)
{
    private readonly string runId = Guid.NewGuid().ToString("N")[..8];

    private string Radiologist => $"radiologue-{runId}@rcp.local";

    private string NuclearPhysician => $"nucleaire-{runId}@rcp.local";

    public async Task<ScenarioOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var meetingId = "rcp-local-" + runId;
        Step($"PUT /meetings/{meetingId} (coordinator): filter modalities [{(chosen.FilterModalities.Count == 0 ? "any" : string.Join(", ", chosen.FilterModalities))}], on-call physicians at maildev");
        await api.SendAsync(HttpMethod.Put, "/meetings/" + meetingId, "coordinator", new
        {
            title = "RCP digestive (exécution locale)",
            startsAt = DateTimeOffset.UtcNow.AddDays(7).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            site = "CHU Nord",
            capacity = 20,
            defaultFilter = new { modalities = chosen.FilterModalities, date = new { kind = "None" } },
            onCallRadiologist = new { name = "Claire Roussel", email = Radiologist },
            onCallNuclearPhysician = new { name = "Marc Aubert", email = NuclearPhysician },
            autoSelect = new { mode = "Manual", maxStudies = 0 },
            retentionDays = 30,
            deliveryDestination = stack.MeetingPacs is { } meeting ? new { siteId = meeting.SiteId, aeTitle = meeting.AeTitle, host = meeting.Host, port = meeting.DicomPort } : null,
        }, HttpStatusCode.OK, cancellationToken);

        Step("POST /meetings/…/registrations (registrar): strong traits + INS, the four consent items");
        var patient = chosen.Patient;
        var accepted = await api.SendAsync(HttpMethod.Post, $"/meetings/{meetingId}/registrations", "registrar", new
        {
            patient = new
            {
                birthName = patient.BirthName,
                usageName = patient.UsageName,
                firstName = patient.FirstName,
                birthDate = chosen.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                sex = chosen.Sex,
                ins = patient.Ins is null ? null : new { matricule = patient.Ins.Value, oid = patient.Ins.Issuer },
            },
            consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = true },
            requester = new { id = "dr-local", name = "Dr Demandeur", email = (string?)null },
            expertiseRequested = false,
        }, HttpStatusCode.Accepted, cancellationToken, idempotencyKey: "register-" + runId);
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        var statusPath = "/registrations/" + Uri.EscapeDataString(registrationId);
        AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  202 Accepted: {registrationId}");

        Step($"GET {statusPath}: search progress per site");
        var searched = await PollSearchAsync(statusPath, cancellationToken);
        var candidates = searched.GetProperty("candidates").EnumerateArray().ToList();
        var candidateUids = candidates.Select(c => c.GetProperty("studyInstanceUid").GetString()!).ToList();
        ShowCandidates(candidates);
        var filteredOut = searched.GetProperty("sites").EnumerateArray().Sum(s => s.GetProperty("filteredOut").GetInt32());
        var nearMisses = searched.GetProperty("sites").EnumerateArray().Sum(s => NearMissTotal(s.GetProperty("nearMisses")));
        AnsiConsole.MarkupLine($"  {candidateUids.Count} candidate(s), {filteredOut} study answer(s) filtered out by the meeting filter, {nearMisses} identity near-miss answer(s) rejected");
        var excluded = chosen.Studies.Count - chosen.ExpectedCandidates.Count;
        if (excluded > 0)
        {
            AnsiConsole.MarkupLine($"  manifest: {excluded} study(ies) of the patient outside the meeting filter (the relays apply it in their C-FIND, so they never reach the candidates)");
        }

        foreach (var person in manifestNearMisses)
        {
            AnsiConsole.MarkupLine($"  manifest: near-miss person {person}");
        }

        var expected = chosen.ExpectedCandidates.Select(s => s.StudyInstanceUid).Order(StringComparer.Ordinal).ToList();
        if (!candidateUids.Order(StringComparer.Ordinal).SequenceEqual(expected))
        {
            throw new LocalRunException($"candidates differ from the manifest: API {candidateUids.Count}, expected {expected.Count} ({candidateUids.Except(expected).Count()} unexpected, {expected.Except(candidateUids).Count()} missing)");
        }

        Step($"POST {statusPath}/selection: all {candidateUids.Count} candidate(s)");
        await api.SendAsync(HttpMethod.Post, statusPath + "/selection", "registrar", new { studyInstanceUids = candidateUids }, HttpStatusCode.Accepted, cancellationToken, idempotencyKey: "select-" + runId);
        await PollRetrievalAsync(statusPath, candidateUids, cancellationToken);

        Step($"GET {statusPath}/manifest: the imaging manifest (DRIM-M Key Object Selection, DICOM JSON) the service published into the DICOM service");
        var revision = 0;
        await Waiting.UntilAsync("the imaging manifest published", TimeSpan.FromSeconds(60), async ct =>
        {
            var status = await api.SendAsync(HttpMethod.Get, statusPath, "registrar", null, HttpStatusCode.OK, ct);
            if (!status.TryGetProperty("manifest", out var manifest) || manifest.ValueKind != JsonValueKind.Object
                || manifest.GetProperty("publishing").GetBoolean() || manifest.GetProperty("documentUid").ValueKind != JsonValueKind.String)
            {
                return false;
            }

            revision = manifest.GetProperty("revision").GetInt32();
            return true;
        }, cancellationToken);
        var imagingManifest = await api.SendAsync(HttpMethod.Get, statusPath + "/manifest", "registrar", null, HttpStatusCode.OK, cancellationToken);
        var listed = ImagingManifestInstances(imagingManifest[0]);
        AnsiConsole.MarkupLine($"  titled \"{imagingManifest[0].GetProperty("0040A043").GetProperty("Value")[0].GetProperty("00080104").GetProperty("Value")[0].GetString()}\": {listed.Count} instance(s) with their WADO-RS series URLs (revision {revision}; checked against the region below)");

        IReadOnlyList<string>? delivered = null;
        var manifestDelivered = false;
        if (stack.MeetingPacs is { } destination)
        {
            Step($"delivery to the meeting site's PACS {destination.AeTitle} (through the {destination.SiteId} relay): every available study and the manifest");
            var deliveries = await PollDeliveriesAsync(statusPath, candidateUids.Count + 1, cancellationToken);
            delivered = await InstancesAtAsync(destination, candidateUids, cancellationToken);
            var documentUid = deliveries.Status.GetProperty("manifest").GetProperty("documentUid").GetString()!;
            var manifestStudy = deliveries.ManifestStudy;
            manifestDelivered = (await InstancesAtAsync(destination, [manifestStudy], cancellationToken)).Contains(documentUid, StringComparer.Ordinal);
            AnsiConsole.MarkupLine($"  C-FIND (IMAGE) on {destination.AeTitle}: {delivered.Count} instance(s) of the selected studies, manifest document {(manifestDelivered ? "present" : "[red]missing[/]")} (checked against the region below)");
        }

        Step($"POST {statusPath}/expertise-request: « Demande d'expertise »");
        await api.SendAsync(HttpMethod.Post, statusPath + "/expertise-request", "registrar", null, HttpStatusCode.Accepted, cancellationToken);
        var emails = await WaitForEmailsAsync(cancellationToken);

        Step("POST /audit/patient-search (auditor): the patient's audit trail for this run");
        var auditRecords = await ShowAuditTrailAsync(cancellationToken);
        return new ScenarioOutcome(registrationId, candidateUids.Count, nearMisses, candidateUids, emails, auditRecords, listed) { DeliveredInstances = delivered, ManifestDelivered = manifestDelivered };
    }

    /// <summary>The SOP Instance UIDs of a Key Object Selection's evidence (DICOM JSON): study → series → instance.</summary>
    private static List<string> ImagingManifestInstances(JsonElement document) =>
        [.. Items(document, "0040A375")
            .SelectMany(study => Items(study, "00081115"))
            .SelectMany(series => Items(series, "00081199"))
            .Select(sop => sop.GetProperty("00081155").GetProperty("Value")[0].GetString()!)];

    private static List<JsonElement> Items(JsonElement element, string tag) =>
        element.TryGetProperty(tag, out var sequence) && sequence.TryGetProperty("Value", out var items) ? [.. items.EnumerateArray()] : [];

    private static void Step(string text) => AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"\n[bold blue]==[/] {text}");

    // The API gives each kind and their "total"; summing every member would count each near-miss twice.
    private static int NearMissTotal(JsonElement counts) =>
        counts.ValueKind == JsonValueKind.Object && counts.TryGetProperty("total", out var total) ? total.GetInt32() : 0;

    private async Task<JsonElement> PollSearchAsync(string statusPath, CancellationToken cancellationToken)
    {
        JsonElement status = default;
        var lastShown = new Dictionary<string, string>();
        await Waiting.UntilAsync("every site's search (registration status)", TimeSpan.FromSeconds(90), async ct =>
        {
            status = await api.SendAsync(HttpMethod.Get, statusPath, "registrar", null, HttpStatusCode.OK, ct);
            foreach (var site in status.GetProperty("sites").EnumerateArray())
            {
                var id = site.GetProperty("siteId").GetString()!;
                var line = $"{site.GetProperty("status").GetString()}: {site.GetProperty("studiesReturned").GetInt32()} returned, {site.GetProperty("matched").GetInt32()} matched, {site.GetProperty("filteredOut").GetInt32()} filtered out, {NearMissTotal(site.GetProperty("nearMisses"))} near-miss rejected";
                if (!lastShown.TryGetValue(id, out var shown) || shown != line)
                {
                    lastShown[id] = line;
                    AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  {id,-13} {line}");
                }

                var siteStatus = site.GetProperty("status").GetString();
                if (siteStatus is "Unreachable" or "Failed")
                {
                    throw new LocalRunException($"site {id} search {siteStatus} ({(site.TryGetProperty("lastFailure", out var f) ? f.ToString() : "no reason")}); see .local/run/logs/relay-{id}.log");
                }
            }

            var registration = status.GetProperty("status").GetString();
            if (registration is "Failed" or "Purged")
            {
                throw new LocalRunException($"registration {registration} during the search");
            }

            return registration is "WaitingForSelection" or "Completed"
                && status.GetProperty("sites").EnumerateArray().All(s => s.GetProperty("status").GetString() == "Searched");
        }, cancellationToken, TimeSpan.FromMilliseconds(400));
        return status;
    }

    private static void ShowCandidates(List<JsonElement> candidates)
    {
        var table = new Table().AddColumns("StudyInstanceUID", "site(s)", "date", "modalities", "series", "instances", "description");
        foreach (var c in candidates)
        {
            table.AddRow(
                Markup.Escape(c.GetProperty("studyInstanceUid").GetString()!),
                string.Join(", ", c.GetProperty("siteIds").EnumerateArray().Select(s => s.GetString())),
                c.TryGetProperty("studyDate", out var d) ? d.GetString() ?? string.Empty : string.Empty,
                string.Join(", ", c.GetProperty("modalities").EnumerateArray().Select(s => s.GetString())),
                c.TryGetProperty("numberOfSeries", out var se) ? se.ToString() : "?",
                c.TryGetProperty("numberOfInstances", out var i) ? i.ToString() : "?",
                Markup.Escape(c.TryGetProperty("studyDescription", out var desc) ? desc.GetString() ?? string.Empty : string.Empty));
        }

        AnsiConsole.Write(table);
    }

    private async Task PollRetrievalAsync(string statusPath, IReadOnlyList<string> selected, CancellationToken cancellationToken)
    {
        var lastShown = new Dictionary<string, string>();
        JsonElement status = default;
        await Waiting.UntilAsync("every selected study to be available", TimeSpan.FromSeconds(120), async ct =>
        {
            status = await api.SendAsync(HttpMethod.Get, statusPath, "registrar", null, HttpStatusCode.OK, ct);
            var studies = status.GetProperty("studies").EnumerateArray().ToList();
            foreach (var study in studies)
            {
                var uid = study.GetProperty("studyInstanceUid").GetString()!;
                var state = study.GetProperty("status").GetString();
                var line = $"{state} from {(study.TryGetProperty("siteId", out var site) ? site.GetString() : "?")}: {study.GetProperty("instancesDone").GetInt32()}/{study.GetProperty("instancesTotal").GetInt32()} retrieved, {study.GetProperty("instancesStored").GetInt32()} stored";
                if (!lastShown.TryGetValue(uid, out var shown) || shown != line)
                {
                    lastShown[uid] = line;
                    AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  {uid} {line}");
                }

                if (state is "Failed" or "Deleted" or "Purged")
                {
                    var failure = study.TryGetProperty("failure", out var f) ? $"{f.GetProperty("code").GetString()}: {f.GetProperty("safeMessage").GetString()}" : "no reason given";
                    throw new LocalRunException($"study {uid} {state} ({failure})");
                }
            }

            return selected.All(uid => studies.Any(s => s.GetProperty("studyInstanceUid").GetString() == uid && s.GetProperty("status").GetString() == "Available"));
        }, cancellationToken, TimeSpan.FromMilliseconds(400));

        foreach (var study in status.GetProperty("studies").EnumerateArray())
        {
            var viewer = study.TryGetProperty("viewerUrl", out var v) ? v.GetString() : null;
            AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"  [green]available[/] {study.GetProperty("studyInstanceUid").GetString()} → {viewer ?? "(no viewer link)"}");
        }
    }

    // Until every delivery (the studies', the manifest's) is Delivered; a failed one stops the run.
    private async Task<(JsonElement Status, string ManifestStudy)> PollDeliveriesAsync(string statusPath, int expected, CancellationToken cancellationToken)
    {
        JsonElement status = default;
        var lastShown = new Dictionary<string, string>(StringComparer.Ordinal);
        await Waiting.UntilAsync("every delivery to the meeting site's PACS", TimeSpan.FromSeconds(120), async ct =>
        {
            status = await api.SendAsync(HttpMethod.Get, statusPath, "registrar", null, HttpStatusCode.OK, ct);
            var deliveries = status.TryGetProperty("deliveries", out var list) ? list.EnumerateArray().ToList() : [];
            foreach (var delivery in deliveries)
            {
                var uid = delivery.GetProperty("studyInstanceUid").GetString()!;
                var state = delivery.GetProperty("status").GetString();
                var line = $"{state}: {delivery.GetProperty("instancesDone").GetInt32()}/{delivery.GetProperty("instancesTotal").GetInt32()}{(delivery.GetProperty("isManifest").GetBoolean() ? " (manifest)" : string.Empty)}";
                if (!lastShown.TryGetValue(uid, out var shown) || shown != line)
                {
                    lastShown[uid] = line;
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {uid} {line}");
                }

                if (state == "Failed")
                {
                    throw new LocalRunException($"delivery of {uid} failed ({delivery.GetProperty("failure").GetProperty("code").GetString()})");
                }
            }

            var manifest = status.TryGetProperty("manifest", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            return deliveries.Count >= expected && manifest.ValueKind == JsonValueKind.Object && !manifest.GetProperty("publishing").GetBoolean()
                && deliveries.All(d => d.GetProperty("status").GetString() is "Delivered" or "Cancelled");
        }, cancellationToken, TimeSpan.FromMilliseconds(400));
        var manifestStudy = status.GetProperty("deliveries").EnumerateArray().Last(d => d.GetProperty("isManifest").GetBoolean()).GetProperty("studyInstanceUid").GetString()!;
        return (status, manifestStudy);
    }

    // Image-level C-FIND of each study on the meeting site's PACS.
    private static async Task<IReadOnlyList<string>> InstancesAtAsync(SitePacs pacs, IEnumerable<string> studyUids, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var client = new Dicom.Networking.Client.DicomClient(new Dicom.Networking.Client.DicomClientOptions { Host = pacs.Host, Port = pacs.DicomPort, CallingAeTitle = "SI_TEST", CalledAeTitle = pacs.AeTitle });
        foreach (var uid in studyUids)
        {
            var keys = new Dicom.DicomDataset().AddOrUpdate(Dicom.DicomTag.StudyInstanceUID, uid).AddOrUpdate(Dicom.DicomTag.SOPInstanceUID, string.Empty);
            await foreach (var match in client.FindAsync(Dicom.Networking.Client.QueryModel.StudyRoot, Dicom.Networking.Client.QueryRetrieveLevel.Image, keys, cancellationToken))
            {
                found.Add(match.GetString(Dicom.DicomTag.SOPInstanceUID)!.Trim());
            }
        }

        return [.. found.Order(StringComparer.Ordinal)];
    }

    private async Task<int> WaitForEmailsAsync(CancellationToken cancellationToken)
    {
        using var maildev = new HttpClient { BaseAddress = stack.MailWebUrl, Timeout = TimeSpan.FromSeconds(10) };
        List<JsonElement> ours = [];
        await Waiting.UntilAsync("the expertise e-mail in maildev", TimeSpan.FromSeconds(45), async ct =>
        {
            var all = await maildev.GetFromJsonAsync<List<JsonElement>>(new Uri("api/email", UriKind.Relative), ct) ?? [];
            ours = [.. all.Where(m => m.GetRawText().Contains(runId, StringComparison.Ordinal))];
            return ours.Count > 0;
        }, cancellationToken, TimeSpan.FromMilliseconds(500));

        // Let a duplicate (which must not happen) arrive before counting.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var again = await maildev.GetFromJsonAsync<List<JsonElement>>(new Uri("api/email", UriKind.Relative), cancellationToken) ?? [];
        ours = [.. again.Where(m => m.GetRawText().Contains(runId, StringComparison.Ordinal))];
        foreach (var mail in ours)
        {
            var to = mail.TryGetProperty("to", out var t) ? string.Join(", ", t.EnumerateArray().Select(a => a.GetProperty("address").GetString())) : "?";
            var subject = mail.TryGetProperty("subject", out var s) ? s.GetString() ?? string.Empty : string.Empty;
            var text = mail.TryGetProperty("text", out var body) ? body.GetString() ?? string.Empty : string.Empty;
            var panel = new Panel(Markup.Escape(chosen.Redact(text.Trim())))
            {
                Header = new PanelHeader(Markup.Escape($"to {to} — {chosen.Redact(subject)}")),
            };
            AnsiConsole.MarkupLine("  received in maildev (patient names shown as the manifest key):");
            AnsiConsole.Write(panel);
        }

        return ours.Count;
    }

    private async Task<int> ShowAuditTrailAsync(CancellationToken cancellationToken)
    {
        var records = new List<JsonElement>();
        string? continuation = null;
        do
        {
            var page = await api.SendAsync(HttpMethod.Post, "/audit/patient-search", "auditor", new
            {
                birthName = chosen.Patient.BirthName,
                firstName = chosen.Patient.FirstName,
                birthDate = chosen.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                sex = chosen.Sex,
                from = startedAt.AddSeconds(-5),
                pageSize = 100,
                continuationToken = continuation,
            }, HttpStatusCode.OK, cancellationToken);
            records.AddRange(page.GetProperty("records").EnumerateArray());
            continuation = page.TryGetProperty("continuationToken", out var c) ? c.GetString() : null;
        }
        while (continuation is not null);

        // In the order the API returns the trail (recorded-at, then the registration's sequence), not re-sorted here.
        var table = new Table().AddColumns("recorded (UTC)", "event", "action", "outcome", "site", "detail");
        foreach (var r in records)
        {
            table.AddRow(
                r.GetProperty("recordedAt").GetDateTimeOffset().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),
                Markup.Escape(r.GetProperty("eventType").GetString() ?? string.Empty),
                Markup.Escape(r.GetProperty("actionCode").GetString() ?? string.Empty),
                r.GetProperty("outcome").GetInt32().ToString(CultureInfo.InvariantCulture),
                Markup.Escape(r.TryGetProperty("siteId", out var site) ? site.GetString() ?? string.Empty : string.Empty),
                Markup.Escape(Shorten(r.TryGetProperty("outcomeDescription", out var d) ? d.GetString() ?? string.Empty : string.Empty)));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"  {records.Count} audit record(s) for this patient since the run started");
        if (records.Count == 0)
        {
            throw new LocalRunException("the audit trail has no record for the registered patient");
        }

        return records.Count;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
