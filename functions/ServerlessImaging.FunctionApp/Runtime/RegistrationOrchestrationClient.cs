using System.Collections.Immutable;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>Computes the pseudonymous key of a patient (the holder of the secret registers it).</summary>
public delegate string PatientKeyFunction(PatientIdentity patient);

/// <summary>The durable client the HTTP API uses: start, raise external events, read instance status.</summary>
public sealed class RegistrationOrchestrationClient(
    OrchestrationEngine engine,
    IRegistrationStateStore states,
    IStartRequestIndex startRequests,
    IDicomStore dicom,
    PatientKeyFunction patientKeyOf,
    RuntimeOptions options,
    TimeProvider time) : IRegistrationOrchestrationClient
{
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

        var settings = OrchestrationSettings.Default;
        settings = settings with
        {
            FindTimeout = options.FindTimeout ?? settings.FindTimeout,
            UnreachableRetryInterval = options.UnreachableRetryInterval ?? settings.UnreachableRetryInterval,
            RetrievalRetryInterval = options.RetrievalRetryInterval ?? settings.RetrievalRetryInterval,
            MaxRetrievalRounds = options.MaxRetrievalRounds ?? settings.MaxRetrievalRounds,
        };
        var plan = RegistrationPlan.Create(registration, meeting, options.SiteIds, patientKeyOf(registration.Patient), settings);
        var result = await engine.ApplyAsync(registration.Id, new RegistrationStarted(registration.Id + "/start", time.GetUtcNow(), plan), create: true, cancellationToken);
        return new OrchestrationStartResult(registration.Id, result!.Disposition.Kind == DispositionKind.Applied);
    }

    /// <inheritdoc />
    public async Task<RaiseEventResult?> RaiseEventAsync(string registrationId, OrchestrationEvent externalEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(externalEvent);
        if (externalEvent is not (SelectionMade or RefreshRequested or StudyDeleteRequested or ExpertiseRequested))
        {
            throw new ArgumentException("Only external events (selection, refresh, delete, expertise) can be raised by a client.", nameof(externalEvent));
        }

        var result = await engine.ApplyAsync(registrationId, externalEvent, create: false, cancellationToken);
        return result is null ? null : new RaiseEventResult(result.Disposition, StatusOf(result.State));
    }

    /// <inheritdoc />
    public async Task<RegistrationInstanceStatus?> GetStatusAsync(string registrationId, CancellationToken cancellationToken)
    {
        var stored = await states.LoadAsync(registrationId, cancellationToken);
        return stored is null ? null : StatusOf(stored.State);
    }

    private RegistrationInstanceStatus StatusOf(RegistrationState state) =>
        new(state, state.Selected
            .Where(s => s.Status == StudyStatus.Available)
            .ToImmutableDictionary(s => s.StudyInstanceUid, s => dicom.ViewerLinkFor(s.StudyInstanceUid), StringComparer.Ordinal));
}
