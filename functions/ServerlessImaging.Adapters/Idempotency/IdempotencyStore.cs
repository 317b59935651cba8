using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Azure.Cosmos;

namespace ServerlessImaging.Adapters.Idempotency;

/// <summary>The response remembered for an idempotency key.</summary>
public sealed record StoredResponse(int StatusCode, string? Location, string ContentType, string Body);

/// <summary>What the store says about a key.</summary>
public enum IdempotencyClaimKind
{
    /// <summary>First use: the caller runs the request and then completes or releases the key.</summary>
    Claimed,

    /// <summary>Same key, same request, finished: answer with the stored response.</summary>
    Replay,

    /// <summary>Same key, same request, still running elsewhere: the client should retry later (409).</summary>
    InFlight,

    /// <summary>Same key, different request: refused (422).</summary>
    Mismatch,
}

/// <summary>The answer of <see cref="IIdempotencyStore.ClaimAsync"/>.</summary>
public sealed record IdempotencyClaim(IdempotencyClaimKind Kind, StoredResponse? Response = null);

/// <summary>Idempotency keys of HTTP requests (header <c>Idempotency-Key</c>), scoped per caller and operation.</summary>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="key"/> in <paramref name="scope"/> for a request whose body hashes to <paramref name="requestHash"/>.</summary>
    Task<IdempotencyClaim> ClaimAsync(string scope, string key, string requestHash, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Stores the final response of a claimed key.</summary>
    Task CompleteAsync(string scope, string key, string requestHash, StoredResponse response, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Frees a claimed key after a failure the client may retry (5xx), so the retry runs again.</summary>
    Task ReleaseAsync(string scope, string key, CancellationToken cancellationToken);
}

/// <summary>
/// Idempotency keys in the Cosmos DB container <c>idempotency</c> (partition key <c>/id</c>). The claim is a
/// create, so two concurrent requests with one key cannot both run.
/// </summary>
public sealed class CosmosIdempotencyStore(Container container) : IIdempotencyStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Hex SHA-256 of a request body (what "same request" means).</summary>
    public static string HashBody(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <inheritdoc />
    public async Task<IdempotencyClaim> ClaimAsync(string scope, string key, string requestHash, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var id = DocumentId(scope, key);
        using (var body = Serialize(new Entry(id, requestHash, null, at)))
        using (var created = await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (created.IsSuccessStatusCode)
            {
                return new IdempotencyClaim(IdempotencyClaimKind.Claimed);
            }

            if (created.StatusCode != HttpStatusCode.Conflict)
            {
                throw Failure(created, "claiming an idempotency key");
            }
        }

        using var read = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (read.StatusCode == HttpStatusCode.NotFound)
        {
            // Released between our create and read: let the client retry rather than loop here.
            return new IdempotencyClaim(IdempotencyClaimKind.InFlight);
        }

        if (!read.IsSuccessStatusCode)
        {
            throw Failure(read, "reading an idempotency key");
        }

        var entry = await JsonSerializer.DeserializeAsync<Entry>(read.Content, Json, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("An idempotency document is empty.");
        if (!string.Equals(entry.RequestHash, requestHash, StringComparison.Ordinal))
        {
            return new IdempotencyClaim(IdempotencyClaimKind.Mismatch);
        }

        return entry.Response is null ? new IdempotencyClaim(IdempotencyClaimKind.InFlight) : new IdempotencyClaim(IdempotencyClaimKind.Replay, entry.Response);
    }

    /// <inheritdoc />
    public async Task CompleteAsync(string scope, string key, string requestHash, StoredResponse response, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var id = DocumentId(scope, key);
        using var body = Serialize(new Entry(id, requestHash, response, at));
        using var result = await container.UpsertItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccessStatusCode)
        {
            throw Failure(result, "storing an idempotent response");
        }
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(string scope, string key, CancellationToken cancellationToken)
    {
        var id = DocumentId(scope, key);
        using var result = await container.DeleteItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccessStatusCode && result.StatusCode != HttpStatusCode.NotFound)
        {
            throw Failure(result, "releasing an idempotency key");
        }
    }

    // The key is client-chosen text: hash it so any key is a valid Cosmos id and keys of callers never collide.
    private static string DocumentId(string scope, string key) =>
        "http-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope + "\u001f" + key)).AsSpan(0, 20));

    private static MemoryStream Serialize(Entry entry) => new(JsonSerializer.SerializeToUtf8Bytes(entry, Json));

    private static CosmosException Failure(ResponseMessage response, string what) =>
        new($"{what} failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);

    private sealed record Entry(string Id, string RequestHash, StoredResponse? Response, DateTimeOffset At)
    {
        public string Kind { get; } = "http";
    }
}
