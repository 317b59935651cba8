using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>Meetings in the <c>meetings</c> container, one document per meeting, replaced under If-Match.</summary>
public sealed class CosmosMeetingStore(Container container) : IMeetingStore
{
    /// <inheritdoc />
    public async Task<StoredMeeting?> GetAsync(string meetingId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(meetingId);
        var id = CosmosIds.Encode(meetingId);
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "read meeting");
        var document = await CosmosJson.FromResponseAsync<MeetingDocument>(response, cancellationToken);
        return new StoredMeeting(document.Meeting, response.Headers.ETag);
    }

    /// <inheritdoc />
    public async Task<string> UpsertAsync(Meeting meeting, string? expectedETag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meeting);
        var id = CosmosIds.Encode(meeting.Id);
        using var body = CosmosJson.ToStream(new MeetingDocument(id, "meeting", meeting));
        using var response = expectedETag is null
            ? await container.UpsertItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken)
            : await container.ReplaceItemStreamAsync(body, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = expectedETag }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.PreconditionFailed || (expectedETag is not null && response.StatusCode is HttpStatusCode.NotFound))
        {
            throw new ConcurrencyConflictException("The meeting changed since it was read.");
        }

        CosmosJson.EnsureSuccess(response, "upsert meeting");
        return response.Headers.ETag;
    }

    private sealed record MeetingDocument(string Id, string Type, Meeting Meeting);
}
