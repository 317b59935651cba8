using Azure;
using ServerlessImaging.Contracts;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>How many messages wait in a site's relay queues.</summary>
/// <param name="Commands">Commands not yet completed by the relay (<c>relay-commands-&lt;site&gt;</c>); null: unknown.</param>
/// <param name="Events">Events not yet handled by the app (the site's events queue); null: unknown.</param>
public sealed record RelayQueueDepth(int? Commands, int? Events);

/// <summary>
/// Reads the approximate message counts of each site's command and events queues for <c>GET /sites</c>. A growing
/// command queue is the first sign of a relay that is down or too slow; a growing events queue, of an app that is behind.
/// </summary>
public sealed class RelayQueueDepths(StorageQueueTransport transport, RuntimeOptions runtime, ILogger<RelayQueueDepths> logger)
{
    /// <summary>The depths of <paramref name="siteId"/>'s queues; a count that cannot be read is null (the page still shows the rest).</summary>
    public async Task<RelayQueueDepth> ForAsync(string siteId, CancellationToken cancellationToken)
    {
        var commands = CountAsync(ResourceNames.CommandQueueFor(siteId), cancellationToken);
        var events = CountAsync(runtime.EventsQueueFor(siteId), cancellationToken);
        return new RelayQueueDepth(await commands, await events);
    }

    private async Task<int?> CountAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            return await transport.ApproximateMessageCountAsync(queue, cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            // An operator view: storage trouble shows as "unknown" here (and in the app's own logs), not as a failed page.
            logger.LogWarning("Could not read the message count of queue {Queue}: {Status} {ErrorCode}.", queue, ex.Status, ex.ErrorCode);
            return null;
        }
    }
}
