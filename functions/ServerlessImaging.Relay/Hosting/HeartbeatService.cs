using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Commands;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Pacs;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>Every <c>HeartbeatSeconds</c>: C-ECHO the PACS and send a <see cref="Heartbeat"/> (version, time, echo status).</summary>
public sealed class HeartbeatService(RelayOptions options, PacsGateway pacs, EventPublisher events, TimeProvider time, ILogger<HeartbeatService> logger) : BackgroundService
{
    /// <summary>Correlation id of heartbeat events.</summary>
    public const string CorrelationId = "heartbeat";

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.HeartbeatSeconds), time);
        do
        {
            var status = PacsEchoStatus.Failed;
            try
            {
                using var echoTimeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                echoTimeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(10, options.HeartbeatSeconds)));
                await pacs.EchoAsync(echoTimeout.Token);
                status = PacsEchoStatus.Ok;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Heartbeat C-ECHO to the PACS failed: {Error}", ex.GetType().Name);
            }

            try
            {
                var now = time.GetUtcNow();
                await events.PublishUnsolicitedAsync(CorrelationId, null, new Heartbeat(RelayMetrics.Version, now, status, now), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Heartbeat not sent: {Error}", ex.GetType().Name);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
