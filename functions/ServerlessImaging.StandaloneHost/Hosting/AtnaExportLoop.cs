using ServerlessImaging.Adapters.Audit.Atna;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>
/// Exports the audit trail to the ATNA collector (<see cref="AtnaAuditExport"/>) in the background: a pass every
/// <see cref="PollInterval"/> while idle, the next one at once when a pass ran out of time, and doubling waits (up to
/// <see cref="MaxBackoff"/>) while the collector fails. Nothing runs when no collector is configured. The Functions app's
/// timer trigger does the same.
/// </summary>
internal sealed class AtnaExportLoop(AtnaAuditExport export, ILogger<AtnaExportLoop> logger) : BackgroundService
{
    /// <summary>Wait between passes when there was nothing to send (a pass that finds nothing costs two point reads).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait after failures.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!export.Enabled)
        {
            return;
        }

        var backoff = PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = PollInterval;
            try
            {
                var pass = await export.RunOnceAsync(stoppingToken);
                switch (pass.Outcome)
                {
                    case AtnaExportOutcome.TimeUp:
                        wait = TimeSpan.Zero;
                        break;
                    case AtnaExportOutcome.Failed:
                        wait = backoff;
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                        break;
                    default:
                        backoff = PollInterval;
                        break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Cosmos DB unreachable and the like: the cursor has not moved, the next pass goes on from it.
                logger.LogWarning("ATNA export pass failed ({Error}); tried again in {Delay} s.", ex.GetType().Name, backoff.TotalSeconds);
                wait = backoff;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }

            try
            {
                await Task.Delay(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
