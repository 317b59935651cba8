using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Retrieval;
using ServerlessImaging.Relay.Staging;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>
/// Before commands flow: clear spool files a crash left (staging and delivery journals stay: they are how a redelivered
/// command resumes), drop journals too old to be resumed, and open the C-MOVE destination SCP when retrieving by Move.
/// </summary>
public sealed class RelayStartup(RelayOptions options, SpoolBudget spool, StagingJournals journals, DeliveryJournals deliveryJournals, MoveDestination moveDestination, ILogger<RelayStartup> logger) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        spool.CleanLeftovers();
        journals.RemoveStale();
        deliveryJournals.RemoveStale();
        if (options.Pacs.RetrieveMethod == RetrieveMethod.Move)
        {
            await moveDestination.StartAsync(cancellationToken);
        }

        logger.LogInformation("Relay {Version} for site {SiteId}: PACS {PacsAe} at {Host}:{Port}, retrieve by {Method}",
            Diagnostics.RelayMetrics.Version, options.SiteId, options.Pacs.AeTitle, options.Pacs.Host, options.Pacs.Port, options.Pacs.RetrieveMethod);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken) => await moveDestination.DisposeAsync();
}
