using System.Collections.Immutable;
using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// One document per registration in the <c>registrations</c> container: the orchestration state and its outbox of
/// undispatched commands together, so a save is one atomic replace guarded by If-Match. The state's own
/// <see cref="RegistrationState.ProcessedEventIds"/> (bounded) is the processed-message dedup.
/// </summary>
public sealed class CosmosRegistrationStateStore(Container container, TimeProvider time) : IRegistrationStateStore, IPendingOutboxQuery, IStartRequestIndex
{
    internal const string RegistrationType = "registration";
    internal const string StartRequestType = "start-request";

    /// <inheritdoc />
    public async Task<StoredRegistration?> LoadAsync(string registrationId, CancellationToken cancellationToken)
    {
        var loaded = await ReadAsync(registrationId, cancellationToken);
        return loaded is null ? null : new StoredRegistration(loaded.Value.Document.State, loaded.Value.ETag, [.. loaded.Value.Document.Outbox]);
    }

    /// <inheritdoc />
    public async Task<string> SaveAsync(RegistrationState state, IReadOnlyList<OrchestrationCommand> outbox, string? expectedETag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(outbox);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (expectedETag is null)
        {
            var created = new RegistrationDocument(CosmosIds.Encode(state.RegistrationId), RegistrationType, state, [.. outbox], outbox.Count, outbox.Count > 0 ? now : 0, now);
            using var body = CosmosJson.ToStream(created);
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(created.Id), cancellationToken: cancellationToken);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                throw new ConcurrencyConflictException("The registration was created by another writer.");
            }

            CosmosJson.EnsureSuccess(response, "create registration");
            return response.Headers.ETag;
        }

        // The outbox must keep what is already pending: read it under the same ETag, then replace with If-Match.
        var current = await ReadAsync(state.RegistrationId, cancellationToken) ?? throw new ConcurrencyConflictException("The registration was deleted.");
        if (!string.Equals(current.ETag, expectedETag, StringComparison.Ordinal))
        {
            throw new ConcurrencyConflictException();
        }

        var pending = current.Document.Outbox.Concat(outbox.Where(c => !current.Document.Outbox.Any(p => p.CommandId == c.CommandId))).ToList();
        var since = current.Document.OutboxCount > 0 ? current.Document.OutboxSinceMs : pending.Count > 0 ? now : 0;
        return await ReplaceAsync(current.Document with { State = state, Outbox = pending, OutboxCount = pending.Count, OutboxSinceMs = since, UpdatedAtMs = now }, expectedETag, cancellationToken)
            ?? throw new ConcurrencyConflictException();
    }

    /// <inheritdoc />
    public async Task MarkDispatchedAsync(string registrationId, IReadOnlyCollection<string> commandIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commandIds);
        if (commandIds.Count == 0)
        {
            return;
        }

        var ids = commandIds.ToHashSet(StringComparer.Ordinal);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var current = await ReadAsync(registrationId, cancellationToken);
            if (current is null || !current.Value.Document.Outbox.Any(c => ids.Contains(c.CommandId)))
            {
                return;
            }

            var remaining = current.Value.Document.Outbox.Where(c => !ids.Contains(c.CommandId)).ToList();
            var document = current.Value.Document with
            {
                Outbox = remaining,
                OutboxCount = remaining.Count,
                OutboxSinceMs = remaining.Count > 0 ? time.GetUtcNow().ToUnixTimeMilliseconds() : 0,
            };
            if (await ReplaceAsync(document, current.Value.ETag, cancellationToken) is not null)
            {
                return;
            }
        }

        throw new ConcurrencyConflictException("The outbox could not be updated after repeated conflicts.");
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> RegistrationsWithPendingOutboxAsync(DateTimeOffset olderThan, int max, CancellationToken cancellationToken)
    {
        var query = new QueryDefinition("SELECT c.state.registrationId AS id FROM c WHERE c.type = @type AND c.outboxCount > 0 AND c.outboxSinceMs < @cutoff")
            .WithParameter("@type", RegistrationType)
            .WithParameter("@cutoff", olderThan.ToUnixTimeMilliseconds());
        var ids = new List<string>();
        using var iterator = container.GetItemQueryIterator<IdOnly>(query, requestOptions: new QueryRequestOptions { MaxItemCount = max });
        while (iterator.HasMoreResults && ids.Count < max)
        {
            foreach (var item in await iterator.ReadNextAsync(cancellationToken))
            {
                ids.Add(item.Id);
            }
        }

        return [.. ids.Take(max)];
    }

    /// <inheritdoc />
    public async Task<string> ClaimAsync(string idempotencyKey, string registrationId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        var id = CosmosIds.Encode("start:" + idempotencyKey);
        var claim = new StartRequestDocument(id, StartRequestType, registrationId);
        using (var body = CosmosJson.ToStream(claim))
        using (var created = await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken))
        {
            if (created.IsSuccessStatusCode)
            {
                return registrationId;
            }

            if (created.StatusCode != HttpStatusCode.Conflict)
            {
                CosmosJson.EnsureSuccess(created, "claim start request");
            }
        }

        using var existing = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
        CosmosJson.EnsureSuccess(existing, "read start request");
        return (await CosmosJson.FromResponseAsync<StartRequestDocument>(existing, cancellationToken)).RegistrationId;
    }

    private async Task<(RegistrationDocument Document, string ETag)?> ReadAsync(string registrationId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        var id = CosmosIds.Encode(registrationId);
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "read registration");
        return (await CosmosJson.FromResponseAsync<RegistrationDocument>(response, cancellationToken), response.Headers.ETag);
    }

    // Null on a stale ETag.
    private async Task<string?> ReplaceAsync(RegistrationDocument document, string etag, CancellationToken cancellationToken)
    {
        using var body = CosmosJson.ToStream(document);
        using var response = await container.ReplaceItemStreamAsync(body, document.Id, new PartitionKey(document.Id), new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound)
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "replace registration");
        return response.Headers.ETag;
    }

    internal sealed record RegistrationDocument(
        string Id,
        string Type,
        RegistrationState State,
        List<OrchestrationCommand> Outbox,
        int OutboxCount,
        long OutboxSinceMs,
        long UpdatedAtMs);

    private sealed record StartRequestDocument(string Id, string Type, string RegistrationId);

    private sealed record IdOnly(string Id);
}
