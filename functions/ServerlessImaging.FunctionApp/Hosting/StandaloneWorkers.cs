using ServerlessImaging.Adapters.Relay;
using ServerlessImaging.FunctionApp.Runtime;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.FunctionApp.Hosting;

/// <summary>Standalone mode: the app listens to <c>relay-events</c> and runs the timer/outbox sweep itself (no Functions host).</summary>
public static class StandaloneWorkers
{
    /// <summary>Adds the relay-events listener and the sweep loop.</summary>
    public static IServiceCollection AddStandaloneWorkers(this IServiceCollection services)
    {
        services.AddHostedService<RelayEventListener>();
        services.AddHostedService<SweepLoop>();
        return services;
    }
}

/// <summary>Receives relay events and applies them, a few at a time; an unknown registration or a command is quarantined, a failure redelivered.</summary>
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
            var outcome = await processor.ProcessAsync(message.Envelope, cancellationToken);
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

/// <summary>Fires due durable timers and re-dispatches left-behind outboxes every <see cref="RuntimeOptions.SweepInterval"/>.</summary>
internal sealed class SweepLoop(OrchestrationSweep sweep, RuntimeOptions options, ILogger<SweepLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SweepInterval);
        do
        {
            try
            {
                var result = await sweep.RunOnceAsync(stoppingToken);
                if (result.TimersFired + result.OutboxesRedispatched > 0)
                {
                    logger.LogInformation("Sweep: {Timers} timer(s) fired, {Outboxes} outbox(es) re-dispatched.", result.TimersFired, result.OutboxesRedispatched);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Sweep failed ({Error}); retried next interval.", ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
