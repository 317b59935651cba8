using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using ServerlessImaging.Console.Tests.Support;
using Xunit.Abstractions;

namespace ServerlessImaging.Console.Tests;

/// <summary>
/// The console and the viewer in headless Chromium against the real standalone host, relay, site PACS and DICOM
/// service (<see cref="ConsoleRig"/>). Each test saves screenshots under .local/test-results/screenshots/ and prints
/// their paths.
/// </summary>
[Collection(ConsoleRigGroup.Name)]
public sealed class ConsoleBrowserTests(ConsoleRig rig, ITestOutputHelper output)
{
    private static readonly TimeSpan SearchDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RetrievalDeadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task A_coordinator_creates_a_meeting_with_its_imaging_defaults_and_on_call_physicians()
    {
        var meetingId = "rcp-console-" + Guid.NewGuid().ToString("N")[..8];
        var page = await rig.SignedInPageAsync("coordinator");
        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/reunions").ToString());
        await page.FillAsync("#meeting-id", meetingId);
        await page.FillAsync("#meeting-title", "RCP thoracique (navigateur)");
        await page.FillAsync("#meeting-starts", DateTime.Now.AddDays(10).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        await page.FillAsync("#meeting-site", "CHU Nord");
        await page.CheckAsync("input[name=modality][value=CT]");
        await page.CheckAsync("input[name=modality][value=PT]");
        await page.SelectOptionAsync("#meeting-date-kind", "WithinLastMonths");
        await page.FillAsync("#meeting-date-months", "24");
        await page.FillAsync("#radiologist-name", "Claire Roussel");
        await page.FillAsync("#radiologist-email", "claire.roussel@example.org");
        await page.FillAsync("#nuclear-name", "Marc Aubert");
        await page.FillAsync("#nuclear-email", "marc.aubert@example.org");
        await page.ClickAsync("#save-meeting");
        await rig.ExpectAsync(page, "p.ok:has-text('enregistrée')");
        await rig.ScreenshotAsync(page, "console-meetings", output);

        // What the API now holds is what the form said.
        var saved = await rig.Api.SendAsync(HttpMethod.Get, "/meetings/" + meetingId, "coordinator", null, HttpStatusCode.OK, CancellationToken.None);
        var settings = saved.GetProperty("settings");
        Assert.Equal("RCP thoracique (navigateur)", settings.GetProperty("title").GetString());
        Assert.Equal(["CT", "PT"], settings.GetProperty("defaultFilter").GetProperty("modalities").EnumerateArray().Select(m => m.GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(24, settings.GetProperty("defaultFilter").GetProperty("date").GetProperty("months").GetInt32());
        Assert.Equal("claire.roussel@example.org", settings.GetProperty("onCallRadiologist").GetProperty("email").GetString());
        Assert.Equal("Marc Aubert", settings.GetProperty("onCallNuclearPhysician").GetProperty("name").GetString());

        // Loaded again, edited, saved with its ETag.
        await page.ReloadAsync();
        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/reunions/" + meetingId).ToString());
        await rig.ExpectAsync(page, "p.ok:has-text('chargée')");
        Assert.Equal("RCP thoracique (navigateur)", await page.InputValueAsync("#meeting-title"));
        await page.FillAsync("#meeting-capacity", "12");
        await page.ClickAsync("#save-meeting");
        await rig.ExpectAsync(page, "p.ok:has-text('enregistrée')");
        saved = await rig.Api.SendAsync(HttpMethod.Get, "/meetings/" + meetingId, "coordinator", null, HttpStatusCode.OK, CancellationToken.None);
        Assert.Equal(12, saved.GetProperty("settings").GetProperty("capacity").GetInt32());
    }

    [Fact]
    public async Task A_registration_is_followed_to_available_and_its_viewer_link_renders_the_CT()
    {
        var (meetingId, registrationId) = await RegisterAsync();
        var page = await rig.SignedInPageAsync("registrar");
        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/inscriptions/" + Uri.EscapeDataString(registrationId)).ToString());

        // Per-site search progress, then the candidate: ticked and validated in the page.
        var candidate = page.Locator($"tr[data-candidate='{rig.PhantomStudyUid}']");
        await candidate.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)SearchDeadline.TotalMilliseconds });
        Assert.Contains("TDM THORAX", await candidate.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("interrogé", await page.Locator($"tr[data-site='{rig.SiteId}']").InnerTextAsync(), StringComparison.Ordinal);
        await rig.ScreenshotAsync(page, "console-registration-candidates", output);
        await candidate.Locator("input[type=checkbox]").CheckAsync();
        await page.ClickAsync("#select");

        // The page polls: the study goes through retrieval to "available" without a reload.
        var study = page.Locator($"tr[data-study='{rig.PhantomStudyUid}'][data-status='Available']");
        await study.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)RetrievalDeadline.TotalMilliseconds });
        Assert.Contains($"{ConsoleRig.PhantomSlices} / {ConsoleRig.PhantomSlices}", await study.InnerTextAsync(), StringComparison.Ordinal);
        await rig.ScreenshotAsync(page, "console-registration-available", output);

        var link = study.Locator("a.viewer-link");
        Assert.Equal(new Uri(rig.AppUrl, "viewer/") + "?StudyInstanceUIDs=" + rig.PhantomStudyUid, await link.GetAttributeAsync("href"));
        var viewer = await page.Context.RunAndWaitForPageAsync(() => link.ClickAsync());
        await viewer.WaitForSelectorAsync("body[data-rendered='true']", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.Contains($"{ConsoleRig.PhantomSlices} image(s)", await viewer.InnerTextAsync("#status"), StringComparison.Ordinal);

        // The canvas shows the phantom: partly not black (the body; air and lungs are black in the soft-tissue window), many grey
        // levels (tissues, noise). A blank or single-colour canvas fails both.
        var pixels = await CanvasPixelsAsync(viewer);
        output.WriteLine($"viewer canvas {pixels.Width}x{pixels.Height}: {pixels.NonBlackFraction:P0} not black, {pixels.GreyLevels} grey levels");
        Assert.True(pixels.Width >= 256 && pixels.Height >= 256, $"canvas {pixels.Width}x{pixels.Height}");
        Assert.InRange(pixels.NonBlackFraction, 0.05, 0.98);
        Assert.True(pixels.GreyLevels >= 16, $"only {pixels.GreyLevels} grey levels: not the phantom");
        await rig.ScreenshotAsync(viewer, "viewer-ct-phantom", output);

        // The lung window shows the lungs (black in the soft-tissue window): the canvas is drawn again, brighter.
        await viewer.SelectOptionAsync("#window", "-600,1500");
        var lung = pixels;
        for (var attempt = 0; attempt < 50 && lung.NonBlackFraction <= pixels.NonBlackFraction + 0.02; attempt++)
        {
            await Task.Delay(100);
            lung = await CanvasPixelsAsync(viewer);
        }

        output.WriteLine($"lung window: {lung.NonBlackFraction:P0} not black, {lung.GreyLevels} grey levels");
        Assert.True(lung.NonBlackFraction > pixels.NonBlackFraction + 0.02, $"the lung window showed {lung.NonBlackFraction:P0} not black, the soft-tissue one {pixels.NonBlackFraction:P0}");
        await rig.ScreenshotAsync(viewer, "viewer-ct-phantom-lung-window", output);

        // The coordinator's meeting page lists the registration (GET /meetings/{id}/registrations) with its progress.
        var coordinator = await rig.SignedInPageAsync("coordinator");
        await coordinator.GotoAsync(new Uri(rig.AppUrl, "console/#/reunions/" + meetingId).ToString());
        var listed = coordinator.Locator($"#meeting-registrations tr[data-registration='{registrationId}']");
        await listed.WaitForAsync();
        var summary = await listed.InnerTextAsync();
        Assert.Contains("1 / 1 disponible(s)", summary, StringComparison.Ordinal);
        Assert.Matches(@"(\d+) / \1 interrogé", summary);
        Assert.Equal(0, await listed.Locator("a").CountAsync()); // a coordinator does not open registrations
        await rig.ScreenshotAsync(coordinator, "console-meeting-registrations", output);

        // Opening the study in the viewer is in the audit trail, under the user who opened it, with the study.
        var trail = await rig.Api.SendAsync(HttpMethod.Get, "/audit?userId=console-test-registrar&pageSize=500", "auditor", null, HttpStatusCode.OK, CancellationToken.None);
        Assert.Contains(trail.GetProperty("records").EnumerateArray(), r =>
            r.GetProperty("eventType").GetString() == "ViewerStudyOpened"
            && r.GetProperty("participantObjects").EnumerateArray().Any(o => o.GetProperty("id").GetString() == rig.PhantomStudyUid));
    }

    [Fact]
    public async Task An_auditor_finds_a_registrations_trail_reads_a_record_and_exports_it_as_CSV_and_FHIR()
    {
        var (_, registrationId) = await RegisterAsync();

        // The orchestration's records (started, site searched, candidates) are written as it goes: wait until it has searched.
        await ServerlessImaging.LocalRun.Waiting.UntilAsync("the registration's search", SearchDeadline, async ct =>
        {
            var status = await rig.Api.SendAsync(HttpMethod.Get, "/registrations/" + registrationId, "registrar", null, HttpStatusCode.OK, ct);
            return status.GetProperty("candidates").GetArrayLength() > 0;
        }, CancellationToken.None);
        var page = await rig.SignedInPageAsync("auditor");
        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/audit").ToString());
        await page.FillAsync("#audit-registration", registrationId);
        await page.ClickAsync("#audit-search");
        var rows = page.Locator("tr[data-record]");
        await rig.ExpectAsync(page, "tr[data-record]:has-text('SiteSearched')");
        var count = await rows.CountAsync();
        Assert.True(count >= 3, $"{count} record(s): the request and the orchestration's records were expected");
        await rig.ExpectAsync(page, "tr[data-record]:has-text('RegistrationRequested')");

        await rows.First.ClickAsync();
        var details = await page.InnerTextAsync("#audit-details");
        Assert.Contains(registrationId, details, StringComparison.Ordinal);
        await rig.ScreenshotAsync(page, "console-audit", output);

        var csvDownload = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-csv"));
        var csvPath = Path.Combine(rig.ScreenshotDirectory, "audit-export.csv");
        await csvDownload.SaveAsAsync(csvPath);
        var lines = await File.ReadAllLinesAsync(csvPath);
        Assert.StartsWith("id,recordedAt,", lines[0], StringComparison.Ordinal);
        Assert.Equal(count, lines.Length - 1);
        Assert.All(lines.Skip(1), l => Assert.Contains(registrationId, l, StringComparison.Ordinal));

        var fhirDownload = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-fhir"));
        var fhirPath = Path.Combine(rig.ScreenshotDirectory, "audit-export.fhir.json");
        await fhirDownload.SaveAsAsync(fhirPath);
        using var bundle = JsonDocument.Parse(await File.ReadAllTextAsync(fhirPath));
        Assert.Equal("Bundle", bundle.RootElement.GetProperty("resourceType").GetString());
        var entries = bundle.RootElement.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("resource")).ToList();
        Assert.True(entries.Count >= count, $"{entries.Count} AuditEvent(s) for {count} record(s)");
        Assert.All(entries, e => Assert.Equal("AuditEvent", e.GetProperty("resourceType").GetString()));
        output.WriteLine($"exports: {csvPath}, {fhirPath}");
    }

    [Fact]
    public async Task Roles_decide_the_pages_an_auditor_and_a_coordinator_see_and_the_API_refuses_the_rest()
    {
        var auditor = await rig.SignedInPageAsync("auditor");
        Assert.Equal(["Audit"], await auditor.Locator("#nav a").AllInnerTextsAsync());
        await auditor.GotoAsync(new Uri(rig.AppUrl, "console/#/reunions").ToString());
        await auditor.WaitForSelectorAsync("[data-test=forbidden]");
        Assert.Equal(0, await auditor.Locator("#meeting-id").CountAsync());
        await rig.ScreenshotAsync(auditor, "console-auditor-refused-meetings", output);

        var coordinator = await rig.SignedInPageAsync("coordinator");
        Assert.Equal(["Réunions"], await coordinator.Locator("#nav a").AllInnerTextsAsync());
        foreach (var route in new[] { "audit", "inscriptions", "sites" })
        {
            await coordinator.GotoAsync(new Uri(rig.AppUrl, "console/#/" + route).ToString());
            await coordinator.WaitForSelectorAsync("[data-test=forbidden]");
        }

        Assert.Equal(0, await coordinator.Locator("#audit-search").CountAsync());

        // The pages only mirror the API: the data stays refused to the other role, and images to auditors.
        using var http = new HttpClient { BaseAddress = rig.AppUrl };
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, "/audit?pageSize=1", "coordinator"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, "/meetings/any", "auditor"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, $"/dicom-web/studies/{rig.PhantomStudyUid}/series", "auditor"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, $"/dicom-web/studies/{rig.PhantomStudyUid}/series", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, "/console/", null)); // the assets themselves are public

        // The proxy forwards DICOMweb study reads only: an encoded way out of the study is refused before the DICOM service.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, $"/dicom-web/studies/{rig.PhantomStudyUid}/series", "registrar"));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(http, $"/dicom-web/studies/{rig.PhantomStudyUid}/series/1.2/..%2F..%2F..%2F..%2Fsystem", "registrar"));
    }

    [Fact]
    public async Task An_admin_signed_in_with_the_development_role_button_sees_every_page_and_each_sites_relay()
    {
        var page = await rig.SignedInPageAsync("admin", withRoleButton: true);
        Assert.Equal(["Réunions", "Inscriptions", "Sites", "Audit"], await page.Locator("#nav a").AllInnerTextsAsync());
        Assert.Contains("dev-admin", await page.InnerTextAsync("#who"), StringComparison.Ordinal);
        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/sites").ToString());
        var row = page.Locator($"tr[data-site='{rig.SiteId}']");
        await row.WaitForAsync();
        var text = await row.InnerTextAsync();
        Assert.Contains("en ligne", text, StringComparison.Ordinal);
        Assert.Matches(@"\d+\.\d+", text); // the relay's version

        // Queue depths come from the site's Storage queues (the relay keeps its command queue near empty).
        Assert.Matches(@"^\d+$", (await row.Locator("td[data-field='commands-queued']").InnerTextAsync()).Trim());
        Assert.Matches(@"^\d+$", (await row.Locator("td[data-field='events-queued']").InnerTextAsync()).Trim());
        Assert.Contains("Dernier échec", await page.InnerTextAsync("thead"), StringComparison.Ordinal);
        await rig.ScreenshotAsync(page, "console-sites", output);
    }

    private async Task<(string MeetingId, string RegistrationId)> RegisterAsync()
    {
        var meetingId = "rcp-console-" + Guid.NewGuid().ToString("N")[..8];
        await rig.Api.SendAsync(HttpMethod.Put, "/meetings/" + meetingId, "coordinator", new
        {
            title = "RCP navigateur",
            startsAt = DateTimeOffset.UtcNow.AddDays(7).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            site = "CHU Nord",
            capacity = 20,
            defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
            onCallRadiologist = new { name = "Claire Roussel", email = "claire.roussel@example.org" },
            onCallNuclearPhysician = (object?)null,
            autoSelect = new { mode = "Manual", maxStudies = 0 },
            retentionDays = 30,
        }, HttpStatusCode.OK, CancellationToken.None);
        var accepted = await rig.Api.SendAsync(HttpMethod.Post, $"/meetings/{meetingId}/registrations", "registrar", rig.RegistrationBody(), HttpStatusCode.Accepted, CancellationToken.None, idempotencyKey: Guid.NewGuid().ToString("N"));
        return (meetingId, accepted.GetProperty("registrationId").GetString()!);
    }

    private async Task<HttpStatusCode> StatusAsync(HttpClient http, string path, string? role)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (role is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", rig.TokenFor(role));
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    // Reads the viewer's 2D canvases back (dwv draws with the 2D context, so getImageData sees what is shown) and keeps the
    // largest: its size, the share of non-black pixels and the number of distinct grey levels over a sample.
    private static async Task<CanvasPixels> CanvasPixelsAsync(IPage viewer)
    {
        var result = await viewer.EvaluateAsync<JsonElement>("""
            () => {
              let best = null;
              for (const canvas of document.querySelectorAll('#layerGroup0 canvas')) {
                if (!canvas.width || !canvas.height) continue;
                const context = canvas.getContext('2d');
                if (!context) continue;
                const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
                let samples = 0, nonBlack = 0;
                const levels = new Set();
                for (let i = 0; i < data.length; i += 4 * 13) {
                  samples++;
                  if (data[i] + data[i + 1] + data[i + 2] > 24) nonBlack++;
                  levels.add(data[i]);
                }
                const candidate = { width: canvas.width, height: canvas.height, nonBlack: nonBlack / samples, levels: levels.size };
                if (!best || candidate.nonBlack * candidate.levels > best.nonBlack * best.levels) best = candidate;
              }
              return best ?? { width: 0, height: 0, nonBlack: 0, levels: 0 };
            }
            """);
        return new CanvasPixels(result.GetProperty("width").GetInt32(), result.GetProperty("height").GetInt32(), result.GetProperty("nonBlack").GetDouble(), result.GetProperty("levels").GetInt32());
    }

    private sealed record CanvasPixels(int Width, int Height, double NonBlackFraction, int GreyLevels);
}
