using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ServerlessImaging.Adapters.Idempotency;

namespace ServerlessImaging.Cloud.Api.Http;

/// <summary>
/// <c>Idempotency-Key</c> handling (IETF draft "The Idempotency-Key HTTP Header Field"): the key is scoped to
/// the caller and the operation; the same key with the same body replays the first response; with another
/// body it is refused (422); while the first request still runs, 409. Responses of 5xx free the key.
/// </summary>
public static class IdempotentRequests
{
    /// <summary>The header.</summary>
    public const string Header = "Idempotency-Key";

    /// <summary>Longest key accepted.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>The key of this request, or null.</summary>
    public static string? KeyOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = context.Request.Headers[Header].ToString();
        return string.IsNullOrWhiteSpace(key) ? null : key.Trim();
    }

    /// <summary>The caller scope a key lives in (token subject, or object id for app tokens).</summary>
    public static string CallerOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.User.FindFirstValue("sub") ?? context.User.FindFirstValue("oid") ?? "unknown";
    }

    /// <summary>Runs <paramref name="run"/> once per key; see the type's summary.</summary>
    public static async Task<IResult> RunAsync(HttpContext context, IIdempotencyStore store, TimeProvider time, string operation, ReadOnlyMemory<byte> body, Func<Task<IResult>> run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(run);
        var key = KeyOf(context);
        if (key is null)
        {
            return await run().ConfigureAwait(false);
        }

        if (key.Length > MaxKeyLength)
        {
            return ApiProblems.Validation("header:Idempotency-Key", "too_long", $"At most {MaxKeyLength} characters.");
        }

        var scope = CallerOf(context) + "|" + operation;
        var hash = CosmosIdempotencyStore.HashBody(body.Span);
        var claim = await store.ClaimAsync(scope, key, hash, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        switch (claim.Kind)
        {
            case IdempotencyClaimKind.Replay:
                context.Audit().Detail = "idempotent replay";
                return new ReplayedResult(claim.Response!);
            case IdempotencyClaimKind.InFlight:
                return ApiProblems.Conflict("A request with this Idempotency-Key is still being processed; retry later.", "idempotency-key-in-use");
            case IdempotencyClaimKind.Mismatch:
                return ApiProblems.IdempotencyKeyReused();
        }

        IResult result;
        try
        {
            result = await run().ConfigureAwait(false);
        }
        catch
        {
            await store.ReleaseAsync(scope, key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var captured = Capture(result);
        if (captured is null || captured.StatusCode >= 500)
        {
            await store.ReleaseAsync(scope, key, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await store.CompleteAsync(scope, key, hash, captured, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    // The results our idempotent handlers produce: problems, and values with or without a Location.
    private static StoredResponse? Capture(IResult result) => result switch
    {
        ProblemHttpResult problem => new StoredResponse(problem.StatusCode, null, "application/problem+json", JsonSerializer.Serialize(problem.ProblemDetails, ApiJson.Options)),
        IApiValueResult value => new StoredResponse(value.StatusCode, value.Location, "application/json", JsonSerializer.Serialize(value.Value, value.Value.GetType(), ApiJson.Options)),
        _ => null,
    };

    private sealed class ReplayedResult(StoredResponse response) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = response.StatusCode;
            httpContext.Response.ContentType = response.ContentType;
            httpContext.Response.Headers["Idempotent-Replayed"] = "true";
            if (response.Location is not null)
            {
                httpContext.Response.Headers.Location = response.Location;
            }

            await httpContext.Response.WriteAsync(response.Body, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}

/// <summary>A JSON value result whose status, Location and body an idempotency record can store.</summary>
public interface IApiValueResult : IResult
{
    /// <summary>Status code.</summary>
    int StatusCode { get; }

    /// <summary>Location header, if any.</summary>
    string? Location { get; }

    /// <summary>The body.</summary>
    object Value { get; }
}

/// <summary>A JSON response (status, optional Location) serialised with <see cref="ApiJson.Options"/>.</summary>
public sealed class ApiValueResult(int statusCode, object value, string? location = null) : IApiValueResult
{
    /// <inheritdoc />
    public int StatusCode => statusCode;

    /// <inheritdoc />
    public string? Location => location;

    /// <inheritdoc />
    public object Value => value;

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = statusCode;
        if (location is not null)
        {
            httpContext.Response.Headers.Location = location;
        }

        return httpContext.Response.WriteAsJsonAsync(value, value.GetType(), ApiJson.Options, "application/json", httpContext.RequestAborted);
    }
}
