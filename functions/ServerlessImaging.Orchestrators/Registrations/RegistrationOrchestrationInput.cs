using Microsoft.DurableTask;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// Input of <see cref="RegistrationOrchestration"/>: at the start, the registration's first event; after a
/// continue-as-new, the state reached, the durable timers still set and the events not yet applied. State and events
/// travel as documents of <see cref="OrchestrationJsonContext"/> (<see cref="RegistrationDocuments"/>), so both hosts'
/// data converters carry them unchanged.
/// </summary>
public sealed record RegistrationOrchestrationInput
{
    /// <summary>The registration (and instance) id.</summary>
    public required string RegistrationId { get; init; }

    /// <summary>The state reached before a continue-as-new; null at the start.</summary>
    public string? StateDocument { get; init; }

    /// <summary>Events to apply first, in order (the start event at the start).</summary>
    public IReadOnlyList<string> PendingEvents { get; init; } = [];

    /// <summary>Durable timers set by earlier steps and not fired yet.</summary>
    public IReadOnlyList<PendingDurableTimer> Timers { get; init; } = [];

    /// <summary>How the activities with an outcome are retried before they are given up.</summary>
    public required ActivityRetrySettings Retry { get; init; }

    /// <summary>Steps applied before the history is restarted (continue-as-new) at the next quiet moment.</summary>
    public int StepsPerHistory { get; init; } = 50;
}

/// <summary>A durable timer still to fire: its id (the orchestrator's command id) and due time (UTC).</summary>
public sealed record PendingDurableTimer(string TimerId, DateTime FireAtUtc);

/// <summary>
/// Retry of the activities that report an outcome (StoreStudy, DeleteStudy, PurgeStudies, SendExpertiseEmail): an
/// attempt that throws (a transient failure) is retried after <see cref="FirstRetryInterval"/>, growing by
/// <see cref="BackoffCoefficient"/> up to <see cref="MaxRetryInterval"/>; after <see cref="MaxAttempts"/> attempts the
/// activity is given up and its failure event recorded with reason <see cref="ActivityOutcomes.GaveUpReasonCode"/>.
/// </summary>
public sealed record ActivityRetrySettings(int MaxAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient, TimeSpan MaxRetryInterval)
{
    /// <summary>10 attempts, 30 s doubling up to 10 min: about an hour before giving up.</summary>
    public static readonly ActivityRetrySettings Default = new(10, TimeSpan.FromSeconds(30), 2.0, TimeSpan.FromMinutes(10));

    /// <summary>The engine's retry policy for these settings (at least one attempt, a coefficient of at least 1).</summary>
    public TaskOptions ToTaskOptions() =>
        TaskOptions.FromRetryPolicy(new RetryPolicy(Math.Max(1, MaxAttempts), FirstRetryInterval, Math.Max(1.0, BackoffCoefficient), MaxRetryInterval));
}
