using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// The API's read model in the <c>registrations</c> container: one document per registration holding the state its
/// orchestration last recorded (highest version wins: a retried step activity never moves it back), one per study
/// transfer holding the progress it last recorded (highest version wins too), and the start requests' idempotency
/// claims; a meeting's registrations are a cross-partition query on the meeting id (bounded), and so are the ones
/// waiting to ask a site again (each registration document lists those sites at its top level).
/// </summary>
public sealed class CosmosRegistrationViewStore(Container container, TimeProvider time)
    : IRegistrationViewStore, IStudyTransferProgressStore, IStartRequestIndex, IMeetingRegistrationIndex, ISiteSearchWaitIndex
{
    internal const string RegistrationType = "registration";
    internal const string StudyTransferType = "study-transfer";
    internal const string StartRequestType = "start-request";
    private const int MaxConflictRetries = 16;

    /// <inheritdoc />
    /// <remarks>One point read of the registration, then one per study in transfer, in parallel.</remarks>
    public async Task<RegistrationState?> LoadAsync(string registrationId, CancellationToken cancellationToken)
    {
        var state = await LoadRecordedAsync(registrationId, cancellationToken);
        if (state is null)
        {
            return null;
        }

        var transferIds = state.Selected
            .Where(s => s.Status == StudyStatus.Retrieving && !string.IsNullOrEmpty(s.CurrentCommandId))
            .Select(s => s.CurrentCommandId!)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        if (transferIds.Length == 0)
        {
            return state;
        }

        var progress = await Task.WhenAll(transferIds.Select(id => LoadProgressAsync(id, cancellationToken)));
        foreach (var recorded in progress)
        {
            state = recorded?.OverlayOn(state) ?? state;
        }

        return state;
    }

    /// <inheritdoc />
    public async Task<RegistrationState?> LoadRecordedAsync(string registrationId, CancellationToken cancellationToken) =>
        (await ReadAsync(registrationId, cancellationToken))?.Document.State;

    /// <inheritdoc />
    public async Task SaveAsync(RegistrationState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (var attempt = 0; attempt < MaxConflictRetries; attempt++)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var current = await ReadAsync(state.RegistrationId, cancellationToken);
            if (current is { } stored && stored.Document.State.Version > state.Version)
            {
                return;
            }

            var document = new RegistrationDocument(CosmosIds.Encode(state.RegistrationId), RegistrationType, state, now, SitesToAskAgain(state));
            using var body = CosmosJson.ToStream(document);
            using var response = current is { } existing
                ? await container.ReplaceItemStreamAsync(body, document.Id, new PartitionKey(document.Id), new ItemRequestOptions { IfMatchEtag = existing.ETag }, cancellationToken)
                : await container.CreateItemStreamAsync(body, new PartitionKey(document.Id), cancellationToken: cancellationToken);
            if (response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict or HttpStatusCode.NotFound)
            {
                continue; // Another step was recorded meanwhile: compare versions again.
            }

            CosmosJson.EnsureSuccess(response, "save registration view");
            return;
        }

        throw new ConcurrencyConflictException("The registration view could not be saved after repeated conflicts.");
    }

    /// <inheritdoc />
    public async Task SaveAsync(StudyTransferProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentException.ThrowIfNullOrWhiteSpace(progress.TransferId, nameof(progress));
        var id = TransferDocumentId(progress.TransferId);
        for (var attempt = 0; attempt < MaxConflictRetries; attempt++)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var current = await ReadTransferAsync(id, cancellationToken);
            if (current is { } stored && stored.Document.Progress.Version > progress.Version)
            {
                return;
            }

            var document = new StudyTransferDocument(id, StudyTransferType, progress.RegistrationId, progress, now);
            using var body = CosmosJson.ToStream(document);
            using var response = current is { } existing
                ? await container.ReplaceItemStreamAsync(body, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = existing.ETag }, cancellationToken)
                : await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken);
            if (response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict or HttpStatusCode.NotFound)
            {
                continue; // Another step of the transfer was recorded meanwhile: compare versions again.
            }

            CosmosJson.EnsureSuccess(response, "save study transfer progress");
            return;
        }

        throw new ConcurrencyConflictException("The study transfer's progress could not be saved after repeated conflicts.");
    }

    /// <summary>The progress <paramref name="transferId"/> last recorded, or null (<see cref="IStudyTransferProgressStore.LoadAsync"/>).</summary>
    public async Task<StudyTransferProgress?> LoadProgressAsync(string transferId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(transferId);
        return (await ReadTransferAsync(TransferDocumentId(transferId), cancellationToken))?.Document.Progress;
    }

    /// <inheritdoc />
    Task<StudyTransferProgress?> IStudyTransferProgressStore.LoadAsync(string transferId, CancellationToken cancellationToken) =>
        LoadProgressAsync(transferId, cancellationToken);

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

    /// <inheritdoc />
    /// <remarks>
    /// The states as the registrations recorded them: the progress of their studies' transfers is not overlaid (one
    /// more read per study in transfer); <see cref="LoadAsync"/> shows it.
    /// </remarks>
    public async Task<MeetingRegistrations> ListByMeetingAsync(string meetingId, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(meetingId);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);

        // One more than asked tells whether the list is cut, without a count query.
        var definition = new QueryDefinition(
                $"SELECT TOP {(max + 1).ToString(CultureInfo.InvariantCulture)} * FROM c WHERE c.type = @type AND c.state.plan.meetingId = @meeting ORDER BY c.updatedAtMs DESC")
            .WithParameter("@type", RegistrationType)
            .WithParameter("@meeting", meetingId);
        var found = await QueryAsync(definition, max + 1, "list a meeting's registrations", item =>
        {
            var document = item.Deserialize<RegistrationDocument>(CosmosJson.Options)
                ?? throw new InvalidDataException("Empty Cosmos DB document (registration).");
            return new RecordedRegistration(document.State, DateTimeOffset.FromUnixTimeMilliseconds(document.UpdatedAtMs));
        }, cancellationToken);

        var truncated = found.Count > max;
        return new MeetingRegistrations(truncated ? found[..max] : found, truncated);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> RegistrationsWaitingForAsync(string siteId, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(siteId);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var definition = new QueryDefinition(
                $"SELECT TOP {max.ToString(CultureInfo.InvariantCulture)} c.state.registrationId FROM c WHERE c.type = @type AND ARRAY_CONTAINS(c.sitesToAskAgain, @site)")
            .WithParameter("@type", RegistrationType)
            .WithParameter("@site", siteId);
        return await QueryAsync(definition, max, "list the registrations waiting to ask a site again", item =>
            item.TryGetProperty("registrationId", out var id) && id.GetString() is { Length: > 0 } registrationId
                ? registrationId
                : throw new InvalidDataException("A registration document without its registration id."), cancellationToken);
    }

    // Up to max results of a cross-partition query, page by page, each document read by read.
    private async Task<List<T>> QueryAsync<T>(QueryDefinition definition, int max, string what, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        var found = new List<T>(Math.Min(max, 64));
        using var iterator = container.GetItemQueryStreamIterator(definition, requestOptions: new QueryRequestOptions { MaxItemCount = max });
        while (iterator.HasMoreResults && found.Count < max)
        {
            using var response = await iterator.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            CosmosJson.EnsureSuccess(response, what);
            using var page = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            found.AddRange(page.RootElement.GetProperty("Documents").EnumerateArray().Select(read));
        }

        return found;
    }

    // The sites the registration's current round found unreachable and will ask again (none once purged): what a
    // heartbeat of their relay wakes (ISiteSearchWaitIndex).
    private static string[] SitesToAskAgain(RegistrationState state) => state.PurgedAt is not null
        ? []
        : [.. state.Sites.Where(s => s.Round == state.Round && s.Status == SiteSearchStatus.Unreachable).Select(s => s.SiteId)];

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

    private async Task<(StudyTransferDocument Document, string ETag)?> ReadTransferAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "read study transfer progress");
        return (await CosmosJson.FromResponseAsync<StudyTransferDocument>(response, cancellationToken), response.Headers.ETag);
    }

    /// <summary>A transfer's document id (its own partition): "transfer:" keeps it apart from registration ids.</summary>
    internal static string TransferDocumentId(string transferId) => CosmosIds.Encode("transfer:" + transferId);

    internal sealed record RegistrationDocument(string Id, string Type, RegistrationState State, long UpdatedAtMs, IReadOnlyList<string>? SitesToAskAgain = null);

    internal sealed record StudyTransferDocument(string Id, string Type, string RegistrationId, StudyTransferProgress Progress, long UpdatedAtMs);

    private sealed record StartRequestDocument(string Id, string Type, string RegistrationId);
}
