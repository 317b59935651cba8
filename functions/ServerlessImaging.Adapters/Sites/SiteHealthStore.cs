using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Adapters.Sites;

/// <summary>The latest known health of a site's relay (from its heartbeats).</summary>
/// <param name="SiteId">The site.</param>
/// <param name="LastSeenAt">When the cloud last received a heartbeat (receive time: the relay clock is not trusted).</param>
/// <param name="RelayVersion">Version the relay reported.</param>
/// <param name="PacsEcho">Latest C-ECHO result of the relay against its PACS.</param>
/// <param name="PacsEchoCheckedAt">When that C-ECHO ran (relay clock).</param>
public sealed record SiteHealth(string SiteId, DateTimeOffset LastSeenAt, string RelayVersion, PacsEchoStatus PacsEcho, DateTimeOffset? PacsEchoCheckedAt)
{
    /// <summary>The health a heartbeat reports; <paramref name="receivedAt"/> (cloud clock) is the last-seen time.</summary>
    public static SiteHealth FromHeartbeat(string siteId, DateTimeOffset receivedAt, Heartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        return new SiteHealth(siteId, receivedAt, heartbeat.RelayVersion, heartbeat.PacsEcho, heartbeat.PacsEchoCheckedAt);
    }
}

/// <summary>
/// The latest failure a site's relay reported: a command it could not carry out (<c>CommandFailed</c>, including a
/// message it quarantined unread) or a delivery to the meeting site's PACS that stopped (<c>DeliveryFailed</c>).
/// Codes and the relay's safe message only: no patient data, no registration id.
/// </summary>
/// <param name="SiteId">The site.</param>
/// <param name="ReceivedAt">When the cloud received the report (cloud clock).</param>
/// <param name="Command">The command type that failed (e.g. <c>RetrieveStudy</c>, <c>FindStudies</c>, <c>DeliverStudy</c>).</param>
/// <param name="Reason">The relay's reason code (<c>FailureReason</c> or <c>DeliveryFailureReason</c> name).</param>
/// <param name="Message">The relay's safe message (never patient data, by contract), cut to 300 characters.</param>
public sealed record SiteFailure(string SiteId, DateTimeOffset ReceivedAt, string Command, string Reason, string Message)
{
    /// <summary>Longest message kept: enough for an operator, bounded against a chatty relay.</summary>
    public const int MaxMessageLength = 300;
}

/// <summary>Heartbeats and failures recorded by the runtime, read by <c>GET /sites</c>.</summary>
public interface ISiteHealthStore
{
    /// <summary>Records a relay's failure report (keeps the newest by receive time).</summary>
    Task RecordFailureAsync(SiteFailure failure, CancellationToken cancellationToken);

    /// <summary>The latest failure <paramref name="siteId"/>'s relay reported, or null.</summary>
    Task<SiteFailure?> GetLastFailureAsync(string siteId, CancellationToken cancellationToken);

    /// <summary>Records a heartbeat (keeps the newest: an older, late heartbeat does not overwrite a newer one).</summary>
    Task RecordAsync(SiteHealth health, CancellationToken cancellationToken);

    /// <summary>The health of <paramref name="siteId"/>, or null when it never reported.</summary>
    Task<SiteHealth?> GetAsync(string siteId, CancellationToken cancellationToken);
}

/// <summary>
/// Site health in the Cosmos DB container <c>sites</c> (partition key <c>/id</c>): the heartbeat under the site id, the
/// last failure in a document of its own (<c>failure:&lt;site&gt;</c>), so the two writers never contend for one ETag.
/// </summary>
public sealed class CosmosSiteHealthStore(Container container) : ISiteHealthStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <inheritdoc />
    public async Task RecordAsync(SiteHealth health, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(health);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var read = await container.ReadItemStreamAsync(health.SiteId, new PartitionKey(health.SiteId), cancellationToken: cancellationToken).ConfigureAwait(false);
            string? etag = null;
            if (read.IsSuccessStatusCode)
            {
                var stored = await JsonSerializer.DeserializeAsync<Document>(read.Content, Json, cancellationToken).ConfigureAwait(false);
                if (stored is not null && stored.Health.LastSeenAt >= health.LastSeenAt)
                {
                    return;
                }

                etag = read.Headers.ETag;
            }
            else if (read.StatusCode != HttpStatusCode.NotFound)
            {
                throw Failure(read, "reading site health");
            }

            using var body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new Document(health.SiteId, health), Json));
            using var write = etag is null
                ? await container.CreateItemStreamAsync(body, new PartitionKey(health.SiteId), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await container.ReplaceItemStreamAsync(body, health.SiteId, new PartitionKey(health.SiteId), new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken).ConfigureAwait(false);
            if (write.IsSuccessStatusCode)
            {
                return;
            }

            if (write.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed))
            {
                throw Failure(write, "recording site health");
            }
        }
    }

    /// <inheritdoc />
    public async Task<SiteHealth?> GetAsync(string siteId, CancellationToken cancellationToken)
    {
        using var read = await container.ReadItemStreamAsync(siteId, new PartitionKey(siteId), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (read.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!read.IsSuccessStatusCode)
        {
            throw Failure(read, "reading site health");
        }

        var stored = await JsonSerializer.DeserializeAsync<Document>(read.Content, Json, cancellationToken).ConfigureAwait(false);
        return stored?.Health;
    }

    /// <inheritdoc />
    public async Task RecordFailureAsync(SiteFailure failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var id = FailureId(failure.SiteId);
        var bounded = failure.Message.Length > SiteFailure.MaxMessageLength ? failure with { Message = failure.Message[..SiteFailure.MaxMessageLength] } : failure;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var read = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
            string? etag = null;
            if (read.IsSuccessStatusCode)
            {
                var stored = await JsonSerializer.DeserializeAsync<FailureDocument>(read.Content, Json, cancellationToken).ConfigureAwait(false);
                if (stored is not null && stored.Failure.ReceivedAt >= bounded.ReceivedAt)
                {
                    return;
                }

                etag = read.Headers.ETag;
            }
            else if (read.StatusCode != HttpStatusCode.NotFound)
            {
                throw Failure(read, "reading a site's last failure");
            }

            using var body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new FailureDocument(id, bounded), Json));
            using var write = etag is null
                ? await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await container.ReplaceItemStreamAsync(body, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken).ConfigureAwait(false);
            if (write.IsSuccessStatusCode)
            {
                return;
            }

            if (write.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed))
            {
                throw Failure(write, "recording a site's last failure");
            }
        }
    }

    /// <inheritdoc />
    public async Task<SiteFailure?> GetLastFailureAsync(string siteId, CancellationToken cancellationToken)
    {
        var id = FailureId(siteId);
        using var read = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (read.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!read.IsSuccessStatusCode)
        {
            throw Failure(read, "reading a site's last failure");
        }

        return (await JsonSerializer.DeserializeAsync<FailureDocument>(read.Content, Json, cancellationToken).ConfigureAwait(false))?.Failure;
    }

    // Site ids are lower-case letters, digits and hyphens (ResourceNames), so this never collides with a site's own id.
    private static string FailureId(string siteId) => "failure:" + siteId;

    private static CosmosException Failure(ResponseMessage response, string what) =>
        new($"{what} failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);

    private sealed record Document(string Id, SiteHealth Health);

    private sealed record FailureDocument(string Id, SiteFailure Failure);
}
