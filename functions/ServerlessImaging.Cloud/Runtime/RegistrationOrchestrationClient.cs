using System.Collections.Immutable;
using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>Computes the pseudonymous key of a patient (the holder of the secret registers it).</summary>
public delegate string PatientKeyFunction(PatientIdentity patient);

/// <summary>Raises a relay's event to its registration's orchestration.</summary>
public interface IRegistrationEventSink
{
    /// <summary>Raises <paramref name="registrationEvent"/>; false when no such registration exists (nothing raised).</summary>
    Task<bool> RaiseAsync(string registrationId, OrchestrationEvent registrationEvent, CancellationToken cancellationToken);
}

/// <summary>
/// The durable client the HTTP API and the relay-events trigger use, over the Durable Task client: starts registration
/// orchestrations, raises their events, reads their status from the read model the orchestration's steps record.
/// </summary>
/// <remarks>
/// A user's event is first applied to the read model's state (the same pure function the orchestration runs): a
/// rejection (an unknown study, no on-call physician) is answered at once and nothing is raised; otherwise the event is
/// raised, the resulting state is recorded in the read model (so the caller reads what it just did) and returned. The
/// orchestration decides again when it applies the event and records its own step, which replaces the preview; a
/// preview that raced a relay's event or an activity's outcome (recorded with the same version) is thereby corrected
/// within one step, so a read right after an action can briefly show the step before it.
/// </remarks>
public sealed class RegistrationOrchestrationClient(
    DurableClientHolder durableClient,
    IRegistrationViewStore views,
    IStartRequestIndex startRequests,
    IDicomStore dicom,
    PatientKeyFunction patientKeyOf,
    RuntimeOptions options,
    RegistrationViewChanges changes,
    TimeProvider time) : IRegistrationOrchestrationClient, IRegistrationEventSink
{
    // How often a waiting status read looks at the read model for a step another process recorded.
    private static readonly TimeSpan ChangeReadInterval = TimeSpan.FromMilliseconds(250);

    // Registrations whose orchestration instance was seen to exist (bounded; an event raised to an instance purged since
    // is dropped by the engine, as the orchestration would have ignored it once purged).
    private readonly RecentSet knownInstances = new(capacity: 10_000);

    private DurableTaskClient Durable => durableClient.Client;

    /// <inheritdoc />
    public async Task<OrchestrationStartResult> StartNewAsync(Meeting meeting, Registration registration, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meeting);
        ArgumentNullException.ThrowIfNull(registration);
        var owner = await startRequests.ClaimAsync(idempotencyKey, registration.Id, cancellationToken);
        if (!string.Equals(owner, registration.Id, StringComparison.Ordinal))
        {
            return new OrchestrationStartResult(owner, Created: false);
        }

        if (await Durable.GetInstanceAsync(registration.Id, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return new OrchestrationStartResult(registration.Id, Created: false);
        }

        var settings = OrchestrationSettings.Default;
        settings = settings with
        {
            FindTimeout = options.FindTimeout ?? settings.FindTimeout,
            UnreachableRetryInterval = options.UnreachableRetryInterval ?? settings.UnreachableRetryInterval,
            RetrievalRetryInterval = options.RetrievalRetryInterval ?? settings.RetrievalRetryInterval,
            MaxRetrievalRounds = options.MaxRetrievalRounds ?? settings.MaxRetrievalRounds,
        };
        var plan = RegistrationPlan.Create(registration, meeting, options.SiteIds, patientKeyOf(registration.Patient), settings);
        var now = time.GetUtcNow();
        var started = new RegistrationStarted(registration.Id + "/start", now, plan);
        var input = new RegistrationOrchestrationInput
        {
            RegistrationId = registration.Id,
            PendingEvents = [RegistrationDocuments.WriteEvent(started)],
            Retry = options.ActivityRetry,
            StepsPerHistory = options.StepsPerHistory,
        };
        await Durable.ScheduleNewOrchestrationInstanceAsync(RegistrationOrchestration.Name, input, new StartOrchestrationOptions(registration.Id), cancellationToken);

        // The API answers with the registration's status at once: record what the first step will record (same version,
        // so the orchestration's own record replaces it).
        await views.SaveAsync(RegistrationOrchestrator.Apply(RegistrationState.Create(registration.Id), started, now).State, cancellationToken);
        changes.Notify(registration.Id);
        return new OrchestrationStartResult(registration.Id, Created: true);
    }

    /// <inheritdoc />
    public async Task<RaiseEventResult?> RaiseEventAsync(string registrationId, OrchestrationEvent externalEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(externalEvent);
        if (externalEvent is not (SelectionMade or RefreshRequested or StudyDeleteRequested or ExpertiseRequested))
        {
            throw new ArgumentException("Only external events (selection, refresh, delete, expertise) can be raised by a client.", nameof(externalEvent));
        }

        // The registration's own record, not the read model's view of it (its studies' transfer progress overlaid): the
        // preview is what the orchestration will compute, and is saved as the registration's record.
        var state = await views.LoadRecordedAsync(registrationId, cancellationToken);
        if (state is null)
        {
            return null;
        }

        var preview = RegistrationOrchestrator.Apply(state, externalEvent, time.GetUtcNow());
        if (preview.Disposition.Kind == DispositionKind.Rejected)
        {
            return new RaiseEventResult(preview.Disposition, StatusOf(state));
        }

        await Durable.RaiseEventAsync(registrationId, RegistrationDocuments.EventName, RegistrationDocuments.WriteEvent(externalEvent), cancellationToken);
        if (preview.Disposition.Kind == DispositionKind.Applied)
        {
            // Read-your-writes for the caller: the read model shows the step at once; the orchestration records the same
            // version when it applies the event (or a later one), which replaces this preview.
            await views.SaveAsync(preview.State, cancellationToken);
            changes.Notify(registrationId);
        }

        return new RaiseEventResult(preview.Disposition, StatusOf(preview.State));
    }

    /// <inheritdoc />
    public async Task<RegistrationInstanceStatus?> GetStatusAsync(string registrationId, CancellationToken cancellationToken)
    {
        var state = await views.LoadAsync(registrationId, cancellationToken);
        return state is null ? null : StatusOf(state);
    }

    /// <inheritdoc />
    public async Task<RegistrationInstanceStatus?> WaitForChangeAsync(string registrationId, long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + maxWait;
        string? progressAtStart = null;
        while (true)
        {
            var state = await views.LoadAsync(registrationId, cancellationToken);
            var left = deadline - time.GetUtcNow();

            // A transfer's progress (instances staged, a retry scheduled) is its own record and does not move the
            // registration's version: a change of it since this wait began is a change too.
            var progress = state is null ? null : TransferProgressOf(state);
            progressAtStart ??= progress;
            if (state is null || state.Version > afterVersion || left <= TimeSpan.Zero || !string.Equals(progress, progressAtStart, StringComparison.Ordinal))
            {
                return state is null ? null : StatusOf(state);
            }

            // Woken by a step this process records; a step recorded elsewhere is seen at the next read.
            await changes.WaitAsync(registrationId, left < ChangeReadInterval ? left : ChangeReadInterval, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<bool> RaiseAsync(string registrationId, OrchestrationEvent registrationEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registrationEvent);
        if (string.IsNullOrWhiteSpace(registrationId))
        {
            return false;
        }

        // A retrieval's answers go to the study's transfer (a sub-orchestration of this registration), a site's answers to
        // its search, the rest to the registration.
        var (instanceId, eventName) = RegistrationDocuments.RouteOf(registrationId, registrationEvent);

        // A relay answers each instance many times: its existence is looked up in the task hub once, then remembered.
        if (!knownInstances.Contains(instanceId))
        {
            if (await Durable.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is null)
            {
                // A late answer to a transfer whose history was already purged (it ended): stale, dropped, unless the
                // registration itself is unknown.
                return !string.Equals(instanceId, registrationId, StringComparison.Ordinal)
                    && await Durable.GetInstanceAsync(registrationId, getInputsAndOutputs: false, cancellationToken) is not null;
            }

            knownInstances.Add(instanceId);
        }

        await Durable.RaiseEventAsync(instanceId, eventName, RegistrationDocuments.WriteEvent(registrationEvent), cancellationToken);
        return true;
    }

    // What the studies in transfer show of their progress, compared between two reads of one wait.
    private static string TransferProgressOf(RegistrationState state) =>
        string.Join('|', state.Selected.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Status}:{s.InstancesDone}:{s.BytesDone}:{s.Failure?.Code}:{s.NextAttemptAt?.UtcTicks}")));

    private RegistrationInstanceStatus StatusOf(RegistrationState state) =>
        new(state, state.Selected
            .Where(s => s.Status == StudyStatus.Available)
            .ToImmutableDictionary(s => s.StudyInstanceUid, s => dicom.ViewerLinkFor(s.StudyInstanceUid), StringComparer.Ordinal));
}
