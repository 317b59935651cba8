using Microsoft.DurableTask;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Api.Delivery;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;

namespace ServerlessImaging.Cloud.Activities;

// The registration orchestration's activities (names in RegistrationActivities), one class each, shared by both hosts:
// the standalone host registers them with the Durable Task Framework, the Functions app wraps each in an
// [ActivityTrigger]. Activities run at least once: each is idempotent on its command ids. Activities with an outcome
// return it as an event document; a transient failure throws and the engine retries.

/// <summary>
/// <see cref="RegistrationActivities.CommitStep"/>: the steps' audit records (keyed by id, written in parallel: the state
/// machine numbered them), then their relay commands (<see cref="RelayCommandSender"/>), with the read model (highest
/// version wins) saved meanwhile. A re-run after a crash repeats nothing with an effect.
/// </summary>
public sealed class CommitRegistrationStepTask(
    IAuditSink audit, IRegistrationViewStore views, RegistrationViewChanges changes, RelayCommandSender relay, TimeProvider time, ILogger<CommitRegistrationStepTask> logger)
    : TaskActivity<RegistrationStepRecord, int>
{
    /// <inheritdoc />
    public override async Task<int> RunAsync(TaskActivityContext context, RegistrationStepRecord input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var started = time.GetTimestamp();
        await Task.WhenAll(input.Audit.Select(record => audit.WriteAsync(record, CancellationToken.None)));
        var audited = time.GetTimestamp();

        // Recorded first, then done; the read model alongside the commands, as the audit records it shows are written.
        await Task.WhenAll(relay.SendAsync(input.RelayCommands, CancellationToken.None), SaveViewAsync(RegistrationDocuments.ReadState(input.StateDocument)));
        logger.LogDebug("Registration {RegistrationId}: step {Version} committed: {Records} audit record(s) in {AuditMs} ms, then {Commands} relay command(s) and the read model in {SendMs} ms.", input.RegistrationId, input.Version, input.Audit.Count, (long)time.GetElapsedTime(started, audited).TotalMilliseconds, input.RelayCommands.Count, (long)time.GetElapsedTime(audited).TotalMilliseconds);
        return input.Audit.Count + input.RelayCommands.Count;
    }

    private async Task SaveViewAsync(RegistrationState state)
    {
        await views.SaveAsync(state, CancellationToken.None);
        changes.Notify(state.RegistrationId);
    }
}

/// <summary>
/// <see cref="StudyTransferActivities.CommitStep"/>: a transfer step's audit records (its own trail), then its relay
/// commands, with its progress for the read model saved meanwhile (highest version wins). Idempotent as the registration's commit.
/// </summary>
public sealed class CommitStudyTransferStepTask(
    IAuditSink audit, IStudyTransferProgressStore progress, RegistrationViewChanges changes, RelayCommandSender relay)
    : TaskActivity<StudyTransferStepRecord, int>
{
    /// <inheritdoc />
    public override async Task<int> RunAsync(TaskActivityContext context, StudyTransferStepRecord input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await Task.WhenAll(input.Audit.Select(record => audit.WriteAsync(record, CancellationToken.None)));
        await Task.WhenAll(relay.SendAsync(input.RelayCommands, CancellationToken.None), SaveProgressAsync(input.Progress));
        return input.Audit.Count + input.RelayCommands.Count;
    }

    private async Task SaveProgressAsync(StudyTransferProgress step)
    {
        await progress.SaveAsync(step, CancellationToken.None);
        changes.Notify(step.RegistrationId);
    }
}

/// <summary>
/// Sends orchestration commands to the relays: each site's in decision order (a Cancel after what it cancels), the sites
/// side by side, each an envelope on its site's queue with message id = command id, so a relay ignores a re-send. A
/// RetrieveStudy gets a freshly minted write-only staging credential, a DeliverStudy a short-lived read token; neither is stored.
/// </summary>
public sealed class RelayCommandSender(IRelayMessageChannel relay, IStagingStore staging, DeliverySourceTokens deliveryTokens, DeliverySource deliverySource, RuntimeOptions options, TimeProvider time)
{
    /// <summary>Sends <paramref name="commands"/>.</summary>
    public Task SendAsync(IReadOnlyList<OrchestrationCommand> commands, CancellationToken cancellationToken) =>
        Task.WhenAll(commands
            .GroupBy(RelaySiteOf, StringComparer.Ordinal)
            .Select(async site =>
            {
                foreach (var command in site)
                {
                    await SendAsync(command, cancellationToken);
                }
            }));

    private async Task SendAsync(OrchestrationCommand command, CancellationToken cancellationToken)
    {
        switch (command)
        {
            case FindStudiesActivity find:
                await SendAsync(find, find.SiteId, new FindStudiesCommand(find.Query, find.Modalities, find.StudyDateFrom, find.StudyDateTo), cancellationToken);
                break;
            case RetrieveStudyActivity retrieve:
                // The credential reaches only this site's staging container, create and write only.
                var credential = await staging.CreateWriteCredentialAsync(retrieve.SiteId, retrieve.StagingPrefix, time.GetUtcNow() + options.StagingCredentialLifetime, cancellationToken);
                await SendAsync(retrieve, retrieve.SiteId, new RetrieveStudyCommand(retrieve.StudyInstanceUid, [], new StagingDestination(staging.ContainerOf(retrieve.SiteId), retrieve.StagingPrefix), credential), cancellationToken);
                break;
            case DeliverStudyActivity deliver:
                // The token reads this one study through the delivery source, for minutes; never stored.
                var expiresAt = time.GetUtcNow() + options.DeliveryCredentialLifetime;
                var token = deliveryTokens.Issue(new DeliverySourceGrant(deliver.CommandId, deliver.SiteId, deliver.StudyInstanceUid, expiresAt));
                var destination = new DeliveryDestination(deliver.Destination.AeTitle, deliver.Destination.Host, deliver.Destination.Port);
                await SendAsync(deliver, deliver.SiteId, new DeliverStudyCommand(
                    deliver.StudyInstanceUid, destination, deliver.ExpectedSopInstanceUids, deliver.ExpectedInstanceCount, new DicomServiceSource(deliverySource.BaseUrl), new DicomServiceCredential(token, expiresAt)), cancellationToken);
                break;
            case CancelRelayCommand cancel:
                await SendAsync(cancel, cancel.SiteId, new CancelCommand(cancel.CommandIdToCancel), cancellationToken);
                break;
            default:
                throw new InvalidOperationException($"{command.GetType().Name} is not a relay command.");
        }
    }

    private static string RelaySiteOf(OrchestrationCommand command) => command switch
    {
        FindStudiesActivity find => find.SiteId,
        RetrieveStudyActivity retrieve => retrieve.SiteId,
        DeliverStudyActivity deliver => deliver.SiteId,
        CancelRelayCommand cancel => cancel.SiteId,
        _ => throw new InvalidOperationException($"{command.GetType().Name} is not a relay command."),
    };

    private Task SendAsync(OrchestrationCommand command, string siteId, RelayCommand body, CancellationToken cancellationToken) =>
        relay.SendCommandAsync(new MessageEnvelope(command.CommandId, command.RegistrationId, null, siteId, time.GetUtcNow(), MessageCodec.CurrentSchemaVersion, body), cancellationToken);
}

/// <summary><see cref="RegistrationActivities.StoreStudy"/> (<see cref="StoreStudyActivityRunner"/>).</summary>
public sealed class StoreStudyTask(StoreStudyActivityRunner runner) : TaskActivity<StoreStudyActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, StoreStudyActivity input) =>
        RegistrationDocuments.WriteEvent(await runner.RunAsync(input, CancellationToken.None));
}

/// <summary><see cref="RegistrationActivities.StoreStagedInstances"/>: best effort, no outcome (the study's StoreStudy settles it).</summary>
public sealed class StoreStagedInstancesTask(StoreStudyActivityRunner runner) : TaskActivity<StoreStagedInstancesActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, StoreStagedInstancesActivity input)
    {
        await runner.StoreStagedAsync(input, CancellationToken.None);
        return null;
    }
}

/// <summary><see cref="RegistrationActivities.DeleteStudy"/> (<see cref="StudyRemovalActivityRunner"/>).</summary>
public sealed class DeleteStudyTask(StudyRemovalActivityRunner runner) : TaskActivity<DeleteStudyActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, DeleteStudyActivity input) =>
        RegistrationDocuments.WriteEvent(await runner.DeleteAsync(input, CancellationToken.None));
}

/// <summary><see cref="RegistrationActivities.PurgeStudies"/> (<see cref="StudyRemovalActivityRunner"/>).</summary>
public sealed class PurgeStudiesTask(StudyRemovalActivityRunner runner) : TaskActivity<PurgeStudiesActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, PurgeStudiesActivity input) =>
        RegistrationDocuments.WriteEvent(await runner.PurgeAsync(input, CancellationToken.None));
}

/// <summary><see cref="RegistrationActivities.SendExpertiseEmail"/> (<see cref="ExpertiseEmailActivityRunner"/>).</summary>
public sealed class SendExpertiseEmailTask(ExpertiseEmailActivityRunner runner) : TaskActivity<SendExpertiseEmailActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, SendExpertiseEmailActivity input) =>
        RegistrationDocuments.WriteEvent(await runner.RunAsync(input, CancellationToken.None));
}

/// <summary><see cref="RegistrationActivities.PublishManifest"/> (<see cref="ManifestPublishActivityRunner"/>).</summary>
public sealed class PublishManifestTask(ManifestPublishActivityRunner runner) : TaskActivity<PublishManifestActivity, string?>
{
    /// <inheritdoc />
    public override async Task<string?> RunAsync(TaskActivityContext context, PublishManifestActivity input) =>
        RegistrationDocuments.WriteEvent(await runner.RunAsync(input, CancellationToken.None));
}

/// <summary>Where relays read the studies they deliver: the app's delivery source (<see cref="DeliverySourceTokens.SourceBaseUrl"/>).</summary>
/// <param name="BaseUrl">The DICOMweb base URL of the delivery source.</param>
public sealed record DeliverySource(Uri BaseUrl);
