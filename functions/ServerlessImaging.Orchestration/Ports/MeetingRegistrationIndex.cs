using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Ports;

/// <summary>A registration's state as the read model last recorded it, and when.</summary>
/// <param name="State">The recorded state.</param>
/// <param name="UpdatedAt">When the read model last recorded a step of it.</param>
public sealed record RecordedRegistration(RegistrationState State, DateTimeOffset UpdatedAt);

/// <summary>A meeting's registrations, most recently updated first, at most <c>max</c> of them.</summary>
/// <param name="Registrations">The registrations returned.</param>
/// <param name="Truncated">True when the meeting has more than were returned.</param>
public sealed record MeetingRegistrations(IReadOnlyList<RecordedRegistration> Registrations, bool Truncated);

/// <summary>Lists the registrations of a meeting from the read model (the console's meeting page).</summary>
public interface IMeetingRegistrationIndex
{
    /// <summary>Up to <paramref name="max"/> registrations of <paramref name="meetingId"/>, most recently updated first.</summary>
    Task<MeetingRegistrations> ListByMeetingAsync(string meetingId, int max, CancellationToken cancellationToken);
}
