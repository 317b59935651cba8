using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Azure.Cosmos;

namespace ServerlessImaging.Adapters.Idempotency;

/// <summary>Places of a meeting (its capacity): one per registration, reserved before the orchestration starts.</summary>
public interface IMeetingCapacity
{
    /// <summary>
    /// Reserves a place for <paramref name="registrationId"/>; true when it has one (already had one counts: retries
    /// are idempotent), false when the meeting is full.
    /// </summary>
    Task<bool> TryReserveAsync(string meetingId, string registrationId, int capacity, CancellationToken cancellationToken);

    /// <summary>Gives a place back (the registration could not be started).</summary>
    Task ReleaseAsync(string meetingId, string registrationId, CancellationToken cancellationToken);
}

/// <summary>
/// The places of each meeting as one document in the Cosmos DB container <c>idempotency</c> (partition <c>/id</c>),
/// updated under its ETag, so two concurrent registrations cannot take the last place twice.
/// </summary>
public sealed class CosmosMeetingCapacity(Container container) : IMeetingCapacity
{
    private const int MaxAttempts = 20;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public Task<bool> TryReserveAsync(string meetingId, string registrationId, int capacity, CancellationToken cancellationToken) =>
        UpdateAsync(meetingId, places =>
        {
            if (places.Contains(registrationId, StringComparer.Ordinal))
            {
                return (true, null);
            }

            return places.Count >= capacity ? (false, null) : (true, [.. places, registrationId]);
        }, cancellationToken);

    /// <inheritdoc />
    public Task ReleaseAsync(string meetingId, string registrationId, CancellationToken cancellationToken) =>
        UpdateAsync(meetingId, places => (true, places.Contains(registrationId, StringComparer.Ordinal) ? [.. places.Where(p => !string.Equals(p, registrationId, StringComparison.Ordinal))] : null), cancellationToken);

    // decide(current places) -> (result, new places or null when nothing changes)
    private async Task<bool> UpdateAsync(string meetingId, Func<List<string>, (bool Result, List<string>? Updated)> decide, CancellationToken cancellationToken)
    {
        var id = "capacity-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(meetingId)).AsSpan(0, 16));
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            using var read = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
            List<string> places = [];
            string? etag = null;
            if (read.IsSuccessStatusCode)
            {
                places = (await JsonSerializer.DeserializeAsync<Places>(read.Content, Json, cancellationToken).ConfigureAwait(false))?.Registrations ?? [];
                etag = read.Headers.ETag;
            }
            else if (read.StatusCode != HttpStatusCode.NotFound)
            {
                throw Failure(read);
            }

            var (result, updated) = decide(places);
            if (updated is null)
            {
                return result;
            }

            using var body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new Places(id, updated), Json));
            using var write = etag is null
                ? await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await container.ReplaceItemStreamAsync(body, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken).ConfigureAwait(false);
            if (write.IsSuccessStatusCode)
            {
                return result;
            }

            if (write.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed))
            {
                throw Failure(write);
            }

            await Task.Delay(Random.Shared.Next(5, 10 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new CosmosException("The meeting's places changed too often to be updated.", HttpStatusCode.PreconditionFailed, 0, string.Empty, 0);
    }

    private static CosmosException Failure(ResponseMessage response) =>
        new($"Updating a meeting's places failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);

    private sealed record Places(string Id, List<string> Registrations)
    {
        public string Kind { get; } = "meeting-capacity";
    }
}
