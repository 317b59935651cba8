using System.Collections.Immutable;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>What the orchestrator made of an event.</summary>
public enum DispositionKind
{
    /// <summary>The event moved the orchestration on.</summary>
    Applied,

    /// <summary>The event was understood but changes nothing (duplicate, stale, too late); the reason says why.</summary>
    Ignored,

    /// <summary>The event asked for something invalid (unknown study); the API reports it to the caller.</summary>
    Rejected,
}

/// <summary>Why an event was ignored or rejected.</summary>
public enum DispositionReason
{
    /// <summary>Applied.</summary>
    None,

    /// <summary>Same event id already processed.</summary>
    DuplicateEvent,

    /// <summary>Answers a command or timer that is no longer current (superseded attempt, settled study).</summary>
    Stale,

    /// <summary>Progress older than what is already known (reordered).</summary>
    OutOfOrder,

    /// <summary>The command, timer or site is not one this orchestration issued or knows.</summary>
    Unknown,

    /// <summary>The orchestration has not started.</summary>
    NotStarted,

    /// <summary>The orchestration already started.</summary>
    AlreadyStarted,

    /// <summary>The working copy was purged; the instance is finished.</summary>
    RegistrationPurged,

    /// <summary>A study not in the candidate (or selected) list.</summary>
    UnknownStudy,

    /// <summary>Nothing to do (study already deleted, site not waiting for a retry, e-mail already sent).</summary>
    NothingToDo,

    /// <summary>The meeting has no on-call physician to send an expertise request to.</summary>
    NoRecipients,

    /// <summary>The event is for another registration.</summary>
    WrongRegistration,

    /// <summary>An answer from another site than the one the command was sent to.</summary>
    WrongSite,
}

/// <summary>The disposition of an event, with a detail free of patient data.</summary>
public sealed record EventDisposition(DispositionKind Kind, DispositionReason Reason, string? Detail)
{
    /// <summary>Applied.</summary>
    public static readonly EventDisposition Applied = new(DispositionKind.Applied, DispositionReason.None, null);

    /// <summary>Ignored for <paramref name="reason"/>.</summary>
    public static EventDisposition Ignored(DispositionReason reason, string? detail = null) => new(DispositionKind.Ignored, reason, detail);

    /// <summary>Rejected for <paramref name="reason"/>.</summary>
    public static EventDisposition Rejected(DispositionReason reason, string? detail = null) => new(DispositionKind.Rejected, reason, detail);
}

/// <summary>The result of one step: the new state, the commands to carry out, and the disposition.</summary>
public sealed record Transition(RegistrationState State, ImmutableArray<OrchestrationCommand> Commands, EventDisposition Disposition);
