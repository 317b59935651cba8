using System.Globalization;
using System.Net;
using System.Text.Json;
using ServerlessImaging.LocalRun;
using ServerlessImaging.Testing.Isolation;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>The RCP software's calls a fault test needs (meeting, registration, status, selection) and the auditor's read of the trail.</summary>
internal sealed class RcpFlow(FaultRig rig)
{
    public static readonly TimeSpan StepDeadline = TimeSpan.FromSeconds(90);

    private readonly string runId = UniqueNames.PatientSuffix(8).ToLowerInvariant();
    private int selections;

    /// <summary>PUT a meeting a week ahead without filters (delivering to <paramref name="deliveryDestination"/> when given), then POST the registration; returns its id.</summary>
    public async Task<string> RegisterAsync(TestPatient patient, object? deliveryDestination = null)
    {
        var meetingId = "rcp-fault-" + runId;
        await rig.Api.SendAsync(HttpMethod.Put, "/meetings/" + meetingId, "coordinator", new
        {
            title = "RCP fault " + runId,
            startsAt = DateTimeOffset.UtcNow.AddDays(7).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            site = "CHU Nord",
            capacity = 20,
            defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
            onCallRadiologist = (object?)null,
            onCallNuclearPhysician = (object?)null,
            autoSelect = new { mode = "Manual", maxStudies = 0 },
            retentionDays = 30,
            deliveryDestination,
        }, HttpStatusCode.OK, CancellationToken.None);
        var accepted = await rig.Api.SendAsync(HttpMethod.Post, $"/meetings/{meetingId}/registrations", "registrar", patient.RegistrationBody(), HttpStatusCode.Accepted, CancellationToken.None, idempotencyKey: "register-" + runId);
        return accepted.GetProperty("registrationId").GetString()!;
    }

    public Task<JsonElement> StatusAsync(string registrationId) =>
        rig.Api.SendAsync(HttpMethod.Get, StatusPath(registrationId), "registrar", null, HttpStatusCode.OK, CancellationToken.None);

    /// <summary>Polls the status until <paramref name="reached"/> holds; fails naming <paramref name="what"/> and the last status.</summary>
    public async Task<JsonElement> WaitForAsync(string registrationId, string what, Func<RegistrationView, bool> reached, TimeSpan? deadline = null)
    {
        RegistrationView? last = null;
        try
        {
            await Waiting.UntilAsync(what, deadline ?? StepDeadline, async _ =>
            {
                rig.EnsureAllRunning();
                last = new RegistrationView(await StatusAsync(registrationId));
                return reached(last);
            }, CancellationToken.None, TimeSpan.FromMilliseconds(250));
        }
        catch (LocalRunException timeout)
        {
            throw new TimeoutException($"{timeout.Message}; last status: {last?.Summary ?? "none"}");
        }

        return last!.Json;
    }

    public Task<JsonElement> WaitForCandidatesAsync(string registrationId, int count) =>
        WaitForAsync(registrationId, $"{count} candidate(s) with every site searched", s => s.Status == "WaitingForSelection" && s.Candidates.Count == count && s.SiteStatuses.All(x => x == "Searched"));

    public Task<JsonElement> WaitForCompletedAsync(string registrationId) =>
        WaitForAsync(registrationId, "the registration Completed", s => s.Status == "Completed");

    /// <summary>POST the selection (each call its own idempotency key: a later call adds studies).</summary>
    public Task SelectAsync(string registrationId, IEnumerable<string> studyUids) =>
        rig.Api.SendAsync(HttpMethod.Post, StatusPath(registrationId) + "/selection", "registrar", new { studyInstanceUids = studyUids.ToArray() }, HttpStatusCode.Accepted, CancellationToken.None, idempotencyKey: $"select-{runId}-{++selections}");

    /// <summary>Every audit record of the registration (GET /audit?registrationId=, all pages).</summary>
    public async Task<IReadOnlyList<JsonElement>> AuditAsync(string registrationId)
    {
        var records = new List<JsonElement>();
        string? token = null;
        do
        {
            var query = "/audit?registrationId=" + Uri.EscapeDataString(registrationId) + "&pageSize=100" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            var page = await rig.Api.SendAsync(HttpMethod.Get, query, "auditor", null, HttpStatusCode.OK, CancellationToken.None);
            records.AddRange(page.GetProperty("records").EnumerateArray());
            token = page.TryGetProperty("continuationToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (token is not null);
        return records;
    }

    private static string StatusPath(string registrationId) => "/registrations/" + Uri.EscapeDataString(registrationId);
}

/// <summary>The parts of GET /registrations/{id} the fault tests read.</summary>
internal sealed record RegistrationView(JsonElement Json)
{
    public string Status => Json.GetProperty("status").GetString()!;

    public IReadOnlyList<string> Candidates => [.. Json.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("studyInstanceUid").GetString()!)];

    public IReadOnlyList<string> SiteStatuses => [.. Json.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("status").GetString()!)];

    public JsonElement Site(string siteId) => Json.GetProperty("sites").EnumerateArray().Single(s => s.GetProperty("siteId").GetString() == siteId);

    public IReadOnlyList<JsonElement> Studies => [.. Json.GetProperty("studies").EnumerateArray()];

    public JsonElement Study(string uid) => Studies.Single(s => s.GetProperty("studyInstanceUid").GetString() == uid);

    public string Summary =>
        $"{Status}; sites [{string.Join(", ", Json.GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("status").GetString() + (s.TryGetProperty("lastFailure", out var f) && f.ValueKind == JsonValueKind.String ? "/" + f.GetString() : string.Empty)))}]; "
        + $"{Candidates.Count} candidate(s); studies [{string.Join(", ", Studies.Select(s => s.GetProperty("status").GetString() + " " + s.GetProperty("instancesDone").GetInt32() + "/" + s.GetProperty("instancesTotal").GetInt32() + (s.TryGetProperty("failure", out var f) && f.ValueKind == JsonValueKind.Object ? " " + f.GetProperty("code").GetString() : string.Empty)))}]";
}
