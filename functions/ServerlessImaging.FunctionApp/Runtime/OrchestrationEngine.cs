using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>What applying one event did.</summary>
public sealed record EngineResult(RegistrationState State, EventDisposition Disposition);

/// <summary>
/// The orchestration engine: load the state, apply the event through <see cref="RegistrationOrchestrator"/>, save
/// state + outbox under the loaded ETag (a conflict re-runs the orchestrator on the fresh state), then dispatch the
/// new commands and mark them dispatched. A crash between save and dispatch leaves them in the outbox, where the
/// sweep finds them; every command id is deterministic, so dispatching twice has no second effect.
/// Events produced by inline activities (the outcomes of StoreStudy, DeleteStudy, PurgeStudies, SendExpertiseEmail) are
/// applied before their command is marked dispatched, so a crash in between re-runs the activity, whose result event
/// (same id) is then applied once. Audit records of a step are stamped with this app's clock at the commit.
/// </summary>
public sealed class OrchestrationEngine(
    IRegistrationStateStore store,
    CommandDispatcher dispatcher,
    FaultInjection faults,
    TimeProvider time,
    ILogger<OrchestrationEngine> logger)
{
    private const int MaxConflictRetries = 16;

    private readonly PerKeyGate gate = new();

    /// <summary>Applies <paramref name="event"/> to the registration; null when it does not exist and <paramref name="create"/> is false.</summary>
    public async Task<EngineResult?> ApplyAsync(string registrationId, OrchestrationEvent @event, bool create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);
        Transition transition;
        // Load-apply-save takes turns per registration in this process; dispatch (which may run an inline activity
        // for seconds) happens after the turn is passed on.
        using (await gate.EnterAsync(registrationId, cancellationToken))
        {
            for (var attempt = 1; ; attempt++)
            {
                var stored = await store.LoadAsync(registrationId, cancellationToken);
                if (stored is null && !create)
                {
                    return null;
                }

                var state = stored?.State ?? RegistrationState.Create(registrationId);
                transition = RegistrationOrchestrator.Apply(state, @event, time.GetUtcNow());
                if (ReferenceEquals(transition.State, state))
                {
                    // A duplicate: nothing to save or send.
                    return new EngineResult(state, transition.Disposition);
                }

                try
                {
                    await store.SaveAsync(transition.State, transition.Commands, stored?.ETag, cancellationToken);
                    break;
                }
                catch (ConcurrencyConflictException) when (attempt < MaxConflictRetries)
                {
                    logger.LogDebug("Registration {RegistrationId}: ETag conflict, re-applying (attempt {Attempt}).", registrationId, attempt);
                    await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
                }
            }
        }

        if (transition.Disposition.Kind != DispositionKind.Applied)
        {
            logger.LogInformation("Registration {RegistrationId}: {Event} {Kind} ({Reason}).", registrationId, @event.GetType().Name, transition.Disposition.Kind, transition.Disposition.Reason);
        }

        faults.Hit(FaultPoint.CrashAfterSave, transition.Commands);
        await DispatchAsync(registrationId, transition.Commands, cancellationToken);
        return new EngineResult(transition.State, transition.Disposition);
    }

    /// <summary>Dispatches whatever the stored outbox still holds (the sweep's recovery path).</summary>
    public async Task<int> RedispatchPendingAsync(string registrationId, CancellationToken cancellationToken)
    {
        var stored = await store.LoadAsync(registrationId, cancellationToken);
        if (stored is null || stored.Outbox.IsDefaultOrEmpty)
        {
            return 0;
        }

        logger.LogInformation("Registration {RegistrationId}: re-dispatching {Count} pending command(s).", registrationId, stored.Outbox.Length);
        await DispatchAsync(registrationId, stored.Outbox, cancellationToken);
        return stored.Outbox.Length;
    }

    private async Task DispatchAsync(string registrationId, IReadOnlyList<OrchestrationCommand> commands, CancellationToken cancellationToken)
    {
        if (commands.Count == 0)
        {
            return;
        }

        var dispatched = new List<string>(commands.Count);
        var followUps = new List<OrchestrationEvent>();
        foreach (var command in commands)
        {
            try
            {
                if (await dispatcher.DispatchAsync(command, cancellationToken) is { } followUp)
                {
                    followUps.Add(followUp);
                }

                dispatched.Add(command.CommandId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Left in the outbox: the sweep retries it. The exception type only: messages may quote a service.
                logger.LogWarning("Registration {RegistrationId}: {Command} {CommandId} not dispatched ({Error}); left in the outbox.", registrationId, FaultInjection.CommandTypeName(command), command.CommandId, ex.GetType().Name);
            }
        }

        faults.Hit(FaultPoint.CrashAfterDispatch, commands);
        foreach (var followUp in followUps)
        {
            await ApplyAsync(registrationId, followUp, create: false, cancellationToken);
        }

        await store.MarkDispatchedAsync(registrationId, dispatched, cancellationToken);
    }
}
