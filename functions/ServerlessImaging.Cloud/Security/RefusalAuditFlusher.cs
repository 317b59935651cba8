using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Security;

/// <summary>
/// Writes the summary records of ended refusal windows (<see cref="RefusalAuditAggregator"/>) every
/// <see cref="RefusalAuditAggregator.FlushInterval"/>, and those of every open window when the host stops.
/// </summary>
public sealed partial class RefusalAuditFlusher(RefusalAuditAggregator aggregator, IAuditTrail trail, TimeProvider time, ILogger<RefusalAuditFlusher> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(aggregator.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await WriteAsync(aggregator.TakeEnded(time.GetUtcNow()), stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(aggregator.TakeAll(time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAsync(IReadOnlyList<AuditRecord> summaries, CancellationToken cancellationToken)
    {
        foreach (var summary in summaries)
        {
            try
            {
                await trail.AppendAsync(summary, cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One summary that cannot be written must not stop the others nor the host; it is logged for alerting.
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                LogSummaryLost(logger, summary.EventType, summary.ParticipantObjects.FirstOrDefault(o => o.IdTypeCode == RefusalAuditAggregator.CountIdType)?.Id ?? "?", ex.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the summary audit record of {EventType} ({Count} refusals): {ErrorType}")]
    private static partial void LogSummaryLost(ILogger logger, string eventType, string count, string errorType);
}
