using ServerlessImaging.Adapters.Relay;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>Standalone mode: the app listens to every site's <c>relay-events-&lt;site&gt;</c>, purges ended registrations' history and exports the audit trail to the ATNA collector itself (no Functions host's triggers).</summary>
public static class StandaloneWorkers
{
    /// <summary>Adds the relay-events listener, the periodic purge of ended registrations' history and the ATNA export loop.</summary>
    public static IServiceCollection AddStandaloneWorkers(this IServiceCollection services)
    {
        services.AddHostedService<RelayEventListener>();
        services.AddHostedService<SettledRegistrationPurgeLoop>();
        services.AddHostedService<AtnaExportLoop>();
        return services;
    }
}

/// <summary>Receives relay events from every site's queue and raises them to their registrations, a few at a time; an unknown registration, a command or a message claiming another site is quarantined, a failure redelivered.</summary>
internal sealed class RelayEventListener(
    IRelayMessageChannel channel,
    IRelayEventQuarantine quarantine,
    RelayEventProcessor processor,
    ILogger<RelayEventListener> logger) : BackgroundService
{
    private const int Concurrency = 8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await Parallel.ForEachAsync(channel.ReceiveEventsAsync(stoppingToken), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = stoppingToken }, HandleAsync);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async ValueTask HandleAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await processor.ProcessAsync(message.QueueSiteId, message.Envelope, cancellationToken);
            if (RelayEventOutcomes.QuarantineReason(outcome) is { } reason)
            {
                await quarantine.QuarantineAsync(message, reason, cancellationToken);
            }
            else
            {
                await channel.CompleteAsync(message, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Redelivered after the visibility timeout; the channel quarantines it after too many deliveries.
            logger.LogWarning("Relay event {MessageId} not applied ({Error}); it will be redelivered.", message.Envelope.MessageId, ex.GetType().Name);
            if (channel is StorageQueueRelayChannel storage)
            {
                await storage.AbandonAsync(message, TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }
}

/// <summary>Purges ended registrations' history every <see cref="DurableTaskEngineOptions.PurgeInterval"/> (the Functions app's timer trigger does the same).</summary>
internal sealed class SettledRegistrationPurgeLoop(SettledRegistrationPurge purge, DurableTaskEngineOptions options, ILogger<SettledRegistrationPurgeLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PurgeInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await purge.RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Purging ended registrations' history failed ({Error}); tried again next interval.", ex.GetType().Name);
            }
        }
    }
}
