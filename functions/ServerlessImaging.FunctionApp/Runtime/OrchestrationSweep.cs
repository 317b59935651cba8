using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>What one sweep did.</summary>
public sealed record SweepResult(int TimersFired, int OutboxesRedispatched);

/// <summary>
/// Durable timers and outbox recovery: fires due timers (event id = timer id, so a re-fire after a crash is a
/// duplicate), then re-dispatches outboxes older than <see cref="RuntimeOptions.OutboxRedispatchAfter"/>.
/// Run by the standalone host's loop or by the Functions timer trigger.
/// </summary>
public sealed class OrchestrationSweep(
    IDurableTimerStore timers,
    IPendingOutboxQuery pendingOutboxes,
    OrchestrationEngine engine,
    RuntimeOptions options,
    TimeProvider time,
    ILogger<OrchestrationSweep> logger)
{
    /// <summary>One pass.</summary>
    public async Task<SweepResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var fired = 0;
        foreach (var timer in await timers.DueAsync(now, 200, cancellationToken))
        {
            try
            {
                await engine.ApplyAsync(timer.RegistrationId, new DurableTimerFired(timer.CommandId, now, timer.CommandId), create: false, cancellationToken);
                await timers.RemoveAsync(timer.CommandId, cancellationToken);
                fired++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Timer {TimerId} not fired yet ({Error}); retried next sweep.", timer.CommandId, ex.GetType().Name);
            }
        }

        var redispatched = 0;
        foreach (var registrationId in await pendingOutboxes.RegistrationsWithPendingOutboxAsync(now - options.OutboxRedispatchAfter, 100, cancellationToken))
        {
            try
            {
                if (await engine.RedispatchPendingAsync(registrationId, cancellationToken) > 0)
                {
                    redispatched++;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Registration {RegistrationId}: outbox re-dispatch failed ({Error}).", registrationId, ex.GetType().Name);
            }
        }

        return new SweepResult(fired, redispatched);
    }
}
