using System.Collections.Immutable;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Ports;

// The "durable client" side of the runtime (Durable Functions' IDurableOrchestrationClient, specialised):
// what the HTTP API calls to start registrations, raise external events and read instance status.

/// <summary>Result of <see cref="IRegistrationOrchestrationClient.StartNewAsync"/>.</summary>
/// <param name="RegistrationId">The instance id (the registration's id, or the one first started with the same idempotency key).</param>
/// <param name="Created">False when the idempotency key or the registration id was already used: nothing new was started.</param>
public sealed record OrchestrationStartResult(string RegistrationId, bool Created);

/// <summary>Result of <see cref="IRegistrationOrchestrationClient.RaiseEventAsync"/> for an existing instance.</summary>
/// <param name="Disposition">What the orchestrator made of the event (Rejected = report to the caller, e.g. unknown study).</param>
/// <param name="Status">The instance status after the event.</param>
public sealed record RaiseEventResult(EventDisposition Disposition, RegistrationInstanceStatus Status);

/// <summary>
/// Instance status of a registration orchestration: the persisted state (per site: searched / unreachable /
/// near-misses; candidates; per selected study: pending / retrieving n of m / available / failed reason /
/// deleted) plus a viewer link for each available study.
/// </summary>
/// <param name="State">The orchestration state as last saved.</param>
/// <param name="ViewerLinks">StudyInstanceUID to viewer link, for studies whose status is Available.</param>
public sealed record RegistrationInstanceStatus(RegistrationState State, ImmutableDictionary<string, Uri> ViewerLinks)
{
    /// <summary>Instance id.</summary>
    public string RegistrationId => State.RegistrationId;

    /// <summary>Runtime status.</summary>
    public RegistrationStatus Status => State.Status;
}

/// <summary>Starts registration orchestrations, raises external events to them, reads their status.</summary>
public interface IRegistrationOrchestrationClient
{
    /// <summary>
    /// Starts the orchestration of a validated registration (instance id = <see cref="Registration.Id"/>) against a
    /// snapshot of its meeting. Idempotent: the same <paramref name="idempotencyKey"/> (or registration id) again
    /// returns the first instance with <see cref="OrchestrationStartResult.Created"/> false.
    /// </summary>
    Task<OrchestrationStartResult> StartNewAsync(Meeting meeting, Registration registration, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Raises an external event (<see cref="SelectionMade"/>, <see cref="RefreshRequested"/>, <see cref="StudyDeleteRequested"/>,
    /// <see cref="ExpertiseRequested"/>); the event id deduplicates. Null when the instance does not exist.
    /// </summary>
    Task<RaiseEventResult?> RaiseEventAsync(string registrationId, OrchestrationEvent externalEvent, CancellationToken cancellationToken);

    /// <summary>The instance status, or null when the instance does not exist.</summary>
    Task<RegistrationInstanceStatus?> GetStatusAsync(string registrationId, CancellationToken cancellationToken);

    /// <summary>
    /// The instance status once its version is past <paramref name="afterVersion"/>, or as it is after
    /// <paramref name="maxWait"/>; null when the instance does not exist.
    /// </summary>
    Task<RegistrationInstanceStatus?> WaitForChangeAsync(string registrationId, long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken);
}

/// <summary>A meeting as stored, with the ETag guarding it.</summary>
public sealed record StoredMeeting(Meeting Meeting, string ETag);

/// <summary>Meetings (RCP) and their imaging settings, with optimistic concurrency.</summary>
public interface IMeetingStore
{
    /// <summary>The meeting, or null.</summary>
    Task<StoredMeeting?> GetAsync(string meetingId, CancellationToken cancellationToken);

    /// <summary>
    /// Creates or replaces the meeting. With <paramref name="expectedETag"/> the replace happens only if the stored
    /// ETag still matches; with null it is unconditional. Returns the new ETag.
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">The ETag no longer matches.</exception>
    Task<string> UpsertAsync(Meeting meeting, string? expectedETag, CancellationToken cancellationToken);
}
