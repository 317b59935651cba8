using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Api.Http;

/// <summary>Endpoint metadata: how a request to this endpoint is audited.</summary>
/// <param name="EventId">DICOM audit event id.</param>
/// <param name="ActionCode">C, R, U, D or E.</param>
/// <param name="EventType">Our event type name ("RegistrationStatusRead"…).</param>
public sealed record AuditedAs(AuditCode EventId, string ActionCode, string EventType)
{
    /// <summary>Reads (R) fail closed: their answer is held until its audit record is written, and withheld if it cannot be.</summary>
    public bool FailsClosed => ActionCode == AuditActionCodes.Read;
}

/// <summary>What a handler learned that the audit record should carry (set through <see cref="HttpAuditExtensions.Audit"/>).</summary>
public sealed class HttpAuditFacts
{
    /// <summary>Pseudonymous patient key.</summary>
    public string? PatientKey { get; set; }

    /// <summary>Registration concerned.</summary>
    public string? RegistrationId { get; set; }

    /// <summary>Study concerned.</summary>
    public string? StudyInstanceUid { get; set; }

    /// <summary>Detail without patient data (counts, filter, outcome reason).</summary>
    public string? Detail { get; set; }
}

/// <summary>Access to the per-request <see cref="HttpAuditFacts"/>.</summary>
public static class HttpAuditExtensions
{
    /// <summary>The audit facts of this request (created on first use).</summary>
    public static HttpAuditFacts Audit(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<HttpAuditFacts>() is { } facts)
        {
            return facts;
        }

        facts = new HttpAuditFacts();
        context.Features.Set(facts);
        return facts;
    }
}

/// <summary>
/// Writes one audit record per API request once the response status is known: the action itself (success or
/// refusal with 400/404/409/422 → outcome 4), and 401/403 as Security Alerts (110113), aggregated per source, route and
/// reason (<see cref="RefusalAuditAggregator"/>) so a flood of refused calls writes a bounded number of records. Sits
/// between authentication and authorization so refusals of the fallback policy are seen too. Reads
/// (<see cref="AuditedAs.FailsClosed"/>) fail closed: their response is held in memory until the record is written; if it
/// cannot be, the caller gets 503 problem+json and none of the data. Requests to endpoints without
/// <see cref="AuditedAs"/> metadata (the liveness probe) are not recorded.
/// </summary>
public sealed partial class HttpAuditMiddleware(RequestDelegate next, IAuditTrail trail, RefusalAuditAggregator refusals, TimeProvider time, ILogger<HttpAuditMiddleware> logger)
{
    /// <summary>Application name in records.</summary>
    public const string AuditSource = "serverless-imaging-api";

    /// <summary>Longest wait for one audit write: a read not recorded by then is refused rather than left hanging.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the request and records it.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetEndpoint()?.Metadata.GetMetadata<AuditedAs>() is not { } audited)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var startedAt = time.GetUtcNow();

        // A read's answer goes to memory first (responses here are small JSON pages); nothing reaches the caller before its record is written.
        var serverBody = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        await using var held = audited.FailsClosed ? new MemoryStream() : null;
        var holding = held is null ? null : new StreamResponseBodyFeature(held, serverBody);
        if (holding is not null)
        {
            context.Features.Set<IHttpResponseBodyFeature>(holding);
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            if (holding is not null)
            {
                context.Features.Set(serverBody); // the exception handler answers on the real body
            }

            await TryAppendAsync(BuildRecord(context, audited, StatusCodes.Status500InternalServerError, startedAt, time.GetUtcNow()), audited, StatusCodes.Status500InternalServerError).ConfigureAwait(false);
            throw;
        }

        if (holding is not null)
        {
            await holding.CompleteAsync().ConfigureAwait(false); // flushes what the handler wrote through the PipeWriter into the buffer
            context.Features.Set(serverBody);
        }

        var status = context.Response.StatusCode;
        var recorded = status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden
            ? await RecordRefusalAsync(context, audited, status, startedAt).ConfigureAwait(false)
            : await TryAppendAsync(BuildRecord(context, audited, status, startedAt, time.GetUtcNow()), audited, status).ConfigureAwait(false);
        if (held is null)
        {
            return;
        }

        // A refusal carries no data (and its record may be only counted): it is answered whatever the trail says.
        if (recorded || status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
        {
            held.Position = 0;
            await held.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        LogReadWithheld(logger, audited.EventType, status);
        context.Response.Headers.Clear();
        context.Response.Headers.RetryAfter = "30";
        await ApiProblems.AuditUnavailable().ExecuteAsync(context).ConfigureAwait(false);
    }

    // Refusals are aggregated: the first of its window is written now, the rest counted into a later summary.
    private async Task<bool> RecordRefusalAsync(HttpContext context, AuditedAs audited, int status, DateTimeOffset startedAt)
    {
        var record = BuildRecord(context, audited, status, startedAt, time.GetUtcNow());
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "?";
        var key = new RefusalKey(context.Connection.RemoteIpAddress?.ToString() ?? "?", $"{context.Request.Method} {route}", status, record.UserId);
        var written = true;
        foreach (var toWrite in refusals.Observe(key, record, time.GetUtcNow()))
        {
            written &= await TryAppendAsync(toWrite, audited, status).ConfigureAwait(false);
        }

        return written;
    }

    private async Task<bool> TryAppendAsync(AuditRecord record, AuditedAs audited, int status)
    {
        // Not the request's token: a caller hanging up must not cancel the record of what it was answered.
        using var timeout = new CancellationTokenSource(WriteTimeout, time);
        try
        {
            await trail.AppendAsync(record, timeout.Token).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // An audit write failure must not turn a served response into an exception; it is logged as an error for alerting (and a read is withheld).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogAuditWriteFailed(logger, audited.EventType, status, ex.GetType().Name);
            return false;
        }
    }

    // at: the request arrived (EventDateTime); recordedAt: its answer is known and the record written.
    private static AuditRecord BuildRecord(HttpContext context, AuditedAs audited, int status, DateTimeOffset at, DateTimeOffset recordedAt)
    {
        var facts = context.Audit();
        var user = context.User;
        var userId = user.Identity?.IsAuthenticated == true ? user.FindFirstValue("sub") ?? user.FindFirstValue("oid") : null;
        var refusedByAuth = status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden;
        var registrationId = facts.RegistrationId ?? (context.Request.RouteValues.TryGetValue("registrationId", out var rid) ? rid as string : null);

        var participants = new List<AuditParticipant>
        {
            new(userId ?? "anonymous", "user", true, string.Join(' ', user.FindAll("roles").Select(c => c.Value)), context.Connection.RemoteIpAddress?.ToString()),
            new(AuditSource, "application", false, "destination"),
        };
        var objects = new List<AuditParticipantObject>();
        if (facts.PatientKey is { } patientKey)
        {
            objects.Add(AuditParticipantObject.Patient(patientKey));
        }

        if (registrationId is not null)
        {
            objects.Add(AuditParticipantObject.Registration(registrationId));
        }

        if (facts.StudyInstanceUid is { } study)
        {
            objects.Add(AuditParticipantObject.Study(study));
        }

        // The caller's own request id, so a refusal can be tied to the request the caller logged.
        if (IdempotentRequests.KeyOf(context) is { } idempotencyKey)
        {
            objects.Add(new AuditParticipantObject(2, 4, "idempotency-key", idempotencyKey.Length <= IdempotentRequests.MaxKeyLength ? idempotencyKey : idempotencyKey[..IdempotentRequests.MaxKeyLength]));
        }

        // The route template, not the path: ids in paths are ours, but the template is what an auditor filters on.
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "?";
        objects.Add(new AuditParticipantObject(2, 13, "http-request", $"{context.Request.Method} {route}", $"status {status}"));

        return new AuditRecord
        {
            Id = AuditRecordIds.From("http", context.TraceIdentifier, at.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            PartitionKey = AuditRecord.PartitionKeyFor(recordedAt),
            EventId = refusedByAuth ? AuditEventIds.SecurityAlert : audited.EventId,
            EventType = refusedByAuth ? (status == StatusCodes.Status401Unauthorized ? "Unauthenticated" : "Forbidden") + ":" + audited.EventType : audited.EventType,
            ActionCode = refusedByAuth ? AuditActionCodes.Execute : audited.ActionCode,
            DateTime = at,
            RecordedAt = recordedAt,
            Outcome = status switch
            {
                < 400 => AuditOutcomeCodes.Success,
                < 500 => AuditOutcomeCodes.MinorFailure,
                _ => AuditOutcomeCodes.SeriousFailure,
            },
            OutcomeDescription = facts.Detail is null ? $"HTTP {status}" : $"HTTP {status}: {facts.Detail}",
            AuditSource = AuditSource,
            ActiveParticipants = participants,
            ParticipantObjects = objects,
            PatientKey = facts.PatientKey,
            UserId = userId,
            RegistrationId = registrationId,
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the audit record of {EventType} (HTTP {Status}): {ErrorType}")]
    private static partial void LogAuditWriteFailed(ILogger logger, string eventType, int status, string errorType);

    [LoggerMessage(Level = LogLevel.Error, Message = "Withheld the answer to {EventType} (HTTP {Status}): its audit record could not be written; answered 503")]
    private static partial void LogReadWithheld(ILogger logger, string eventType, int status);
}
