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

/// <summary>Heartbeats recorded by the runtime, read by <c>GET /sites</c>.</summary>
public interface ISiteHealthStore
{
    /// <summary>Records a heartbeat (keeps the newest: an older, late heartbeat does not overwrite a newer one).</summary>
    Task RecordAsync(SiteHealth health, CancellationToken cancellationToken);

    /// <summary>The health of <paramref name="siteId"/>, or null when it never reported.</summary>
    Task<SiteHealth?> GetAsync(string siteId, CancellationToken cancellationToken);
}

/// <summary>Site health in the Cosmos DB container <c>sites</c> (partition key <c>/id</c> = site id).</summary>
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

    private static CosmosException Failure(ResponseMessage response, string what) =>
        new($"{what} failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);

    private sealed record Document(string Id, SiteHealth Health);
}
