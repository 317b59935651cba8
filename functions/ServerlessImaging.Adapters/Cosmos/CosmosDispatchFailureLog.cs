using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// Failed dispatches of outbox commands as small documents in the <c>registrations</c> container (type
/// <c>dispatch-failure</c>, id from the command id): created on the first failure, then replaced under their ETag, so
/// two dispatchers failing at once both count. Kept after the command settles (a few hundred bytes; the record of why
/// an activity was given up).
/// </summary>
public sealed class CosmosDispatchFailureLog(Container container) : IDispatchFailureLog
{
    internal const string FailureType = "dispatch-failure";

    /// <inheritdoc />
    public async Task<DispatchFailureCount> RecordFailureAsync(string registrationId, string commandId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandId);
        var id = CosmosIds.Encode("dispatch-failure:" + commandId);
        var atMs = at.ToUnixTimeMilliseconds();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            using var read = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
            if (CosmosJson.IsNotFound(read))
            {
                var first = new FailureDocument(id, FailureType, registrationId, commandId, 1, atMs, atMs);
                using var body = CosmosJson.ToStream(first);
                using var created = await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken);
                if (created.StatusCode == HttpStatusCode.Conflict)
                {
                    continue; // Another dispatcher counted first: count on top of it.
                }

                CosmosJson.EnsureSuccess(created, "record dispatch failure");
                return new DispatchFailureCount(1, at);
            }

            CosmosJson.EnsureSuccess(read, "read dispatch failures");
            var current = await CosmosJson.FromResponseAsync<FailureDocument>(read, cancellationToken);
            var next = current with { Attempts = current.Attempts + 1, LastFailedAtMs = atMs };
            using (var body = CosmosJson.ToStream(next))
            using (var replaced = await container.ReplaceItemStreamAsync(body, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = read.Headers.ETag }, cancellationToken))
            {
                if (replaced.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    continue;
                }

                CosmosJson.EnsureSuccess(replaced, "record dispatch failure");
            }

            return new DispatchFailureCount(next.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(next.FirstFailedAtMs));
        }

        throw new ConcurrencyConflictException("The dispatch failure count could not be updated after repeated conflicts.");
    }

    private sealed record FailureDocument(string Id, string Type, string RegistrationId, string CommandId, int Attempts, long FirstFailedAtMs, long LastFailedAtMs);
}
