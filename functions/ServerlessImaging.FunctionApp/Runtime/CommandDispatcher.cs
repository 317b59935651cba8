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
    RuntimeOptions options,
    TimeProvider time) : IOutboxDispatcher
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
                return await store.RunAsync(storeStudy, cancellationToken);
            case StoreStagedInstancesActivity storeStaged:
                await store.StoreStagedAsync(storeStaged, cancellationToken);
                return null;
            case DeleteStudyActivity delete:
                return await removal.DeleteAsync(delete, cancellationToken);
            case PurgeStudiesActivity purge:
                return await removal.PurgeAsync(purge, cancellationToken);
            case SendExpertiseEmailActivity email:
                return await expertise.RunAsync(email, cancellationToken);
            default:
                throw new NotSupportedException($"No dispatcher for {command.GetType().Name}.");
        }
    }

    private Task SendAsync(OrchestrationCommand command, string siteId, RelayCommand body, CancellationToken cancellationToken) =>
        relay.SendCommandAsync(new MessageEnvelope(command.CommandId, command.RegistrationId, null, siteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body), cancellationToken);
}
