using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Retrieval;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>Before commands flow: clear spool files a crash left, and open the C-MOVE destination SCP when retrieving by Move.</summary>
public sealed class RelayStartup(RelayOptions options, SpoolBudget spool, MoveDestination moveDestination, ILogger<RelayStartup> logger) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        spool.CleanLeftovers();
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
