using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ServerlessImaging.EndToEndBench.Data;
using ServerlessImaging.LocalRun;

namespace ServerlessImaging.EndToEndBench.Api;

/// <summary>
/// When a registration reached each milestone, measured from its POST (as polled): the complete candidate list, every
/// study retrieved into staging (status Storing or Available), every study available.
/// </summary>
/// <param name="PostedAt">When the POST was sent (the app shares this machine's clock, so its audit times compare).</param>
/// <param name="PostAnswered">How long the POST itself took.</param>
internal sealed record RegistrationTimes(string RegistrationId, DateTimeOffset PostedAt, TimeSpan PostAnswered, TimeSpan ToCandidates, TimeSpan ToRetrieved, TimeSpan ToAvailable);

/// <summary>
/// The RCP software's side of a benchmark registration, through the HTTP API: a meeting that selects every candidate
/// by itself, a registration with consent, then polling the status resource as a client would.
/// </summary>
internal sealed class RegistrationDriver(ApiSession api, IReadOnlyList<string> siteIds, TimeSpan pollInterval)
{
    private readonly string runId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Creates a meeting (any modality, any date) whose auto-select policy selects all candidates.</summary>
    public async Task<string> CreateMeetingAsync(string purpose, int capacity, CancellationToken cancellationToken)
    {
        var meetingId = $"e2e-bench-{purpose}-{runId}-{Guid.NewGuid().ToString("N")[..6]}";
        await api.SendAsync(HttpMethod.Put, "/meetings/" + meetingId, "coordinator", new
        {
            title = "RCP benchmark " + purpose,
            startsAt = DateTimeOffset.UtcNow.AddDays(7).ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            site = "CHU Nord",
            capacity,
            defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
            onCallRadiologist = (object?)null,
            onCallNuclearPhysician = (object?)null,
            autoSelect = new { mode = "AllCandidates", maxStudies = 0 },
            retentionDays = 30,
        }, HttpStatusCode.OK, cancellationToken);
        return meetingId;
    }

    /// <summary>
    /// Registers <paramref name="patient"/>, then polls until every site has answered with exactly
    /// <paramref name="expected"/> as candidates (the first complete candidate list) and until each is available.
    /// </summary>
    public async Task<RegistrationTimes> RegisterAndWaitAsync(string meetingId, BenchPatient patient, IReadOnlyList<BenchStudy> expected, TimeSpan deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(expected);
        var postedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var accepted = await api.SendAsync(HttpMethod.Post, $"/meetings/{meetingId}/registrations", "registrar", new
        {
            patient = patient.ToRegistrationPatient(),
            consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = true },
            requester = new { id = "e2e-bench", name = "Benchmark", email = (string?)null },
            expertiseRequested = false,
        }, HttpStatusCode.Accepted, cancellationToken, idempotencyKey: "e2e-" + Guid.NewGuid().ToString("N"));
        var postAnswered = clock.Elapsed;
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        var statusPath = "/registrations/" + Uri.EscapeDataString(registrationId);
        var wanted = expected.Select(s => s.StudyInstanceUid).Order(StringComparer.Ordinal).ToList();

        TimeSpan? toCandidates = null, toRetrieved = null;
        long? version = null;
        while (true)
        {
            // Waiting reads answer at the registration's next step; polling reads answer at once.
            var path = pollInterval == TimeSpan.Zero && version is { } seen ? statusPath + "?afterVersion=" + seen.ToString(CultureInfo.InvariantCulture) : statusPath;
            var status = await api.SendAsync(HttpMethod.Get, path, "registrar", null, HttpStatusCode.OK, cancellationToken);
            version = status.GetProperty("version").GetInt64();
            var elapsed = clock.Elapsed;
            var progress = RegistrationProgress.Read(status, siteIds, wanted);
            if (progress.Failure is not null)
            {
                throw new LocalRunException($"registration {registrationId}: {progress.Failure}");
            }

            toCandidates ??= progress.CandidatesComplete ? elapsed : null;
            toRetrieved ??= toCandidates is not null && progress.AllRetrieved ? elapsed : null;
            if (toRetrieved is not null && progress.AllAvailable)
            {
                return new RegistrationTimes(registrationId, postedAt, postAnswered, toCandidates!.Value, toRetrieved.Value, elapsed);
            }

            if (elapsed > deadline)
            {
                throw new LocalRunException($"registration {registrationId} not done after {deadline.TotalSeconds:0} s: {progress.Summary}");
            }

            if (pollInterval > TimeSpan.Zero)
            {
                await Task.Delay(pollInterval, cancellationToken);
            }
        }
    }

    /// <summary>A registration's audit trail as an auditor reads it (one page: a benchmark registration writes a few dozen records).</summary>
    public async Task<IReadOnlyList<JsonElement>> ReadTrailAsync(string registrationId, CancellationToken cancellationToken)
    {
        var page = await api.SendAsync(HttpMethod.Get, "/audit?pageSize=500&registrationId=" + Uri.EscapeDataString(registrationId), "auditor", null, HttpStatusCode.OK, cancellationToken);
        return [.. page.GetProperty("records").EnumerateArray()];
    }
}

/// <summary>What one GET /registrations/{id} says about the milestones the benchmark waits for.</summary>
internal sealed record RegistrationProgress(bool CandidatesComplete, bool AllRetrieved, bool AllAvailable, string? Failure, string Summary)
{
    /// <summary>Reads the status body; <paramref name="wanted"/> are the study UIDs the patient has (ordinal order).</summary>
    public static RegistrationProgress Read(JsonElement status, IReadOnlyList<string> siteIds, IReadOnlyList<string> wanted)
    {
        var registration = status.GetProperty("status").GetString();
        var sites = status.GetProperty("sites").EnumerateArray().ToList();
        var failedSite = sites.FirstOrDefault(s => s.GetProperty("status").GetString() is "Unreachable" or "Failed");
        string? failure = registration is "Failed" or "Purged" ? "registration " + registration : null;
        if (failedSite.ValueKind == JsonValueKind.Object)
        {
            failure = $"site {failedSite.GetProperty("siteId").GetString()} {failedSite.GetProperty("status").GetString()}";
        }

        var candidates = status.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("studyInstanceUid").GetString()!).Order(StringComparer.Ordinal).ToList();
        var allSearched = siteIds.All(id => sites.Any(s => s.GetProperty("siteId").GetString() == id && s.GetProperty("status").GetString() == "Searched"));
        if (allSearched && !candidates.SequenceEqual(wanted))
        {
            failure ??= $"every site answered but the candidates differ from the loaded studies ({candidates.Count} found, {wanted.Count} expected)";
        }

        var studies = status.GetProperty("studies").EnumerateArray().ToList();
        var failedStudy = studies.FirstOrDefault(s => s.GetProperty("status").GetString() is "Failed" or "Deleted" or "Purged");
        if (failedStudy.ValueKind == JsonValueKind.Object)
        {
            var reason = failedStudy.TryGetProperty("failure", out var f) && f.ValueKind == JsonValueKind.Object ? f.GetProperty("code").GetString() : "no reason";
            failure ??= $"study {failedStudy.GetProperty("studyInstanceUid").GetString()} {failedStudy.GetProperty("status").GetString()} ({reason})";
        }

        var available = UidsIn(studies, "Available");
        var retrieved = UidsIn(studies, "Storing", "Available");
        var summary = $"{registration}, {sites.Count(s => s.GetProperty("status").GetString() == "Searched")}/{siteIds.Count} sites searched, {candidates.Count} candidates, {available.Count}/{wanted.Count} available";
        return new RegistrationProgress(allSearched && candidates.SequenceEqual(wanted), wanted.All(retrieved.Contains), wanted.All(available.Contains), failure, summary);
    }

    private static HashSet<string> UidsIn(List<JsonElement> studies, params string[] statuses) =>
        studies.Where(s => statuses.Contains(s.GetProperty("status").GetString())).Select(s => s.GetProperty("studyInstanceUid").GetString()!).ToHashSet(StringComparer.Ordinal);
}
