using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.FunctionApp.Activities;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>
/// Carries one outbox command out: relay commands become envelopes on the site's queue (message id = command id, so
/// relays deduplicate), timers go to the timer store, activities run here. Returns the event an inline activity
/// produced (StoreStudy, DeleteStudy, PurgeStudies, SendExpertiseEmail report their outcome), for the engine to apply.
/// StoreStagedInstances (the store overlapping a retrieval) reports nothing: the study's StoreStudy settles it.
/// </summary>
public sealed class CommandDispatcher(
    IRelayMessageChannel relay,
    IStagingStore staging,
    IDurableTimerStore timers,
    IAuditSink audit,
    StoreStudyActivityRunner store,
    StudyRemovalActivityRunner removal,
    ExpertiseEmailActivityRunner expertise,
    IDispatchFailureLog failures,
    RuntimeOptions options,
    TimeProvider time,
    ILogger<CommandDispatcher> logger) : IOutboxDispatcher
{
    /// <inheritdoc />
    Task IOutboxDispatcher.DispatchAsync(OrchestrationCommand command, CancellationToken cancellationToken) => DispatchAsync(command, cancellationToken);

    /// <summary>Dispatches; the follow-up event of an inline activity, or null.</summary>
    public async Task<OrchestrationEvent?> DispatchAsync(OrchestrationCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        switch (command)
        {
            case FindStudiesActivity find:
                await SendAsync(find, find.SiteId, new FindStudiesCommand(find.Query, find.Modalities, find.StudyDateFrom, find.StudyDateTo), cancellationToken);
                return null;
            case RetrieveStudyActivity retrieve:
                // The secret is minted now, never stored in the state or the outbox.
                var credential = await staging.CreateWriteCredentialAsync(retrieve.StagingPrefix, time.GetUtcNow() + options.StagingCredentialLifetime, cancellationToken);
                await SendAsync(retrieve, retrieve.SiteId, new RetrieveStudyCommand(retrieve.StudyInstanceUid, [], new StagingDestination(ResourceNames.StagingContainer, retrieve.StagingPrefix), credential), cancellationToken);
                return null;
            case CancelRelayCommand cancel:
                await SendAsync(cancel, cancel.SiteId, new CancelCommand(cancel.CommandIdToCancel), cancellationToken);
                return null;
            case StartDurableTimer timer:
                await timers.ScheduleAsync(timer, cancellationToken);
                return null;
            case WriteAuditActivity record:
                await audit.WriteAsync(record, cancellationToken);
                return null;
            case StoreStudyActivity storeStudy:
                return await WithRetryLimitAsync(storeStudy, store.RunAsync, (why, _) => Task.FromResult<OrchestrationEvent>(store.GaveUp(storeStudy, why)), cancellationToken);
            case StoreStagedInstancesActivity storeStaged:
                await store.StoreStagedAsync(storeStaged, cancellationToken);
                return null;
            case DeleteStudyActivity delete:
                return await WithRetryLimitAsync(delete, removal.DeleteAsync, (why, _) => Task.FromResult<OrchestrationEvent>(removal.GaveUp(delete, why)), cancellationToken);
            case PurgeStudiesActivity purge:
                return await WithRetryLimitAsync(purge, removal.PurgeAsync, (why, _) => Task.FromResult<OrchestrationEvent>(removal.GaveUp(purge, why)), cancellationToken);
            case SendExpertiseEmailActivity email:
                return await WithRetryLimitAsync(email, expertise.RunAsync, (why, ct) => expertise.GaveUpAsync(email, why, ct), cancellationToken);
            default:
                throw new NotSupportedException($"No dispatcher for {command.GetType().Name}.");
        }
    }

    /// <summary>
    /// Runs an inline activity; a failure is counted (durably) and rethrown, so the outbox retries it, until it has
    /// failed <see cref="RuntimeOptions.InlineActivityMaxAttempts"/> times over at least
    /// <see cref="RuntimeOptions.InlineActivityGiveUpAfter"/>: then the activity's failure event is returned instead.
    /// </summary>
    private async Task<OrchestrationEvent> WithRetryLimitAsync<TCommand>(
        TCommand command,
        Func<TCommand, CancellationToken, Task<OrchestrationEvent>> run,
        Func<string, CancellationToken, Task<OrchestrationEvent>> giveUp,
        CancellationToken cancellationToken)
        where TCommand : OrchestrationCommand
    {
        try
        {
            return await run(command, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var now = time.GetUtcNow();
            var count = await failures.RecordFailureAsync(command.RegistrationId, command.CommandId, now, cancellationToken);
            if (!InlineActivityRetryLimit.IsReached(count, now, options))
            {
                throw;
            }

            // The exception type only: messages may quote a service (or, for e-mail, an address).
            var minutes = (int)Math.Floor((now - count.FirstFailedAt).TotalMinutes);
            var why = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Gave up after {count.Attempts} failed attempts over {minutes} min (last error: {ex.GetType().Name}).");
            logger.LogWarning("Registration {RegistrationId}: {Command} {CommandId} given up after {Attempts} failed attempts ({Error}).", command.RegistrationId, FaultInjection.CommandTypeName(command), command.CommandId, count.Attempts, ex.GetType().Name);
            return await giveUp(why, cancellationToken);
        }
    }

    private Task SendAsync(OrchestrationCommand command, string siteId, RelayCommand body, CancellationToken cancellationToken) =>
        relay.SendCommandAsync(new MessageEnvelope(command.CommandId, command.RegistrationId, null, siteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body), cancellationToken);
}

/// <summary>When a transiently failing inline activity is given up (pure).</summary>
public static class InlineActivityRetryLimit
{
    /// <summary>The reason code of the failure event of an activity given up.</summary>
    public const string ReasonCode = "gave_up_after_retries";

    /// <summary>True once <paramref name="count"/> reaches both the attempt and the age bound of <paramref name="options"/>.</summary>
    public static bool IsReached(DispatchFailureCount count, DateTimeOffset now, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(count);
        ArgumentNullException.ThrowIfNull(options);
        return count.Attempts >= Math.Max(1, options.InlineActivityMaxAttempts) && now - count.FirstFailedAt >= options.InlineActivityGiveUpAfter;
    }
}
