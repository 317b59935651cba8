using System.Collections.Immutable;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>Timeouts and retry bounds of an orchestration, fixed in the plan so replays are deterministic.</summary>
/// <param name="FindTimeout">How long a site has to answer one FindStudies attempt.</param>
/// <param name="MaxFindAttemptsPerBurst">Attempts in a row before a site is marked unreachable.</param>
/// <param name="UnreachableRetryInterval">Delay between bursts for an unreachable site; retried until the meeting starts.</param>
/// <param name="ProcessedEventMemory">How many processed event ids the state remembers for deduplication.</param>
public sealed record OrchestrationSettings(
    TimeSpan FindTimeout,
    int MaxFindAttemptsPerBurst,
    TimeSpan UnreachableRetryInterval,
    int ProcessedEventMemory)
{
    /// <summary>
    /// 2-minute find timeout, 3 attempts per burst, a burst every 10 minutes, 512 remembered ids; a retrieval round
    /// every 5 minutes, 3 rounds in all.
    /// </summary>
    public static readonly OrchestrationSettings Default = new(TimeSpan.FromMinutes(2), 3, TimeSpan.FromMinutes(10), 512);

    /// <summary>
    /// Delay before a study whose retrieval failed for a transient cause at every site holding it is tried again at
    /// all of them. Properties rather than positional parameters so plans saved before them still load: they read 0
    /// rounds there (the serializer does not apply these initialisers), so those registrations replay as they did, without retry.
    /// </summary>
    public TimeSpan RetrievalRetryInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Rounds over the sites holding a study, the first one included (1: no automatic retry).</summary>
    public int MaxRetrievalRounds { get; init; } = 3;
}

/// <summary>
/// Everything an orchestration needs, snapshotted when it starts: later edits of the meeting do not
/// change a running orchestration (the API starts a refresh if they should).
/// </summary>
public sealed record RegistrationPlan(
    Registration Registration,
    string PatientKey,
    string MeetingId,
    string MeetingTitle,
    DateTimeOffset MeetingStartsAt,
    ImagingFilter Filter,
    AutoSelectPolicy AutoSelect,
    int RetentionDays,
    ImmutableArray<Physician> ExpertiseRecipients,
    ImmutableArray<string> SiteIds,
    OrchestrationSettings Settings)
{
    /// <summary>
    /// Where the meeting wants its studies pushed once available (the meeting site's PACS or reading console, reached
    /// through that site's relay); null: they stay in the DICOM service. A property so plans saved before it still load.
    /// </summary>
    public MeetingDestination? Delivery { get; init; }

    /// <summary>Meeting date, reference of "last X months" filters.</summary>
    public DateOnly MeetingDate => DateOnly.FromDateTime(MeetingStartsAt.DateTime);

    /// <summary>When the working copy is purged.</summary>
    public DateTimeOffset PurgeAt => MeetingStartsAt.AddDays(RetentionDays);

    /// <summary>Builds the plan of <paramref name="registration"/> to <paramref name="meeting"/> over the enabled sites.</summary>
    /// <param name="registration">A validated registration.</param>
    /// <param name="meeting">Its meeting.</param>
    /// <param name="enabledSiteIds">Sites to search (deduplicated and sorted here).</param>
    /// <param name="patientKey">The pseudonymous key (see <see cref="Identity.PseudonymousPatientKey"/>); computed by the caller, who holds the secret.</param>
    /// <param name="settings">Timeouts; <see cref="OrchestrationSettings.Default"/> when null.</param>
    public static RegistrationPlan Create(Registration registration, Meeting meeting, IEnumerable<string> enabledSiteIds, string patientKey, OrchestrationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(meeting);
        ArgumentNullException.ThrowIfNull(enabledSiteIds);
        ArgumentException.ThrowIfNullOrWhiteSpace(patientKey);
        if (!string.Equals(registration.MeetingId, meeting.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException("The registration is for another meeting.", nameof(meeting));
        }

        ImmutableArray<Physician> recipients = [.. new[] { meeting.OnCallRadiologist, meeting.OnCallNuclearPhysician }.OfType<Physician>()];
        return new RegistrationPlan(
            registration,
            patientKey,
            meeting.Id,
            meeting.Title,
            meeting.StartsAt,
            ImagingFilter.Effective(meeting.DefaultFilter, registration.FilterOverride),
            meeting.AutoSelect,
            meeting.RetentionDays,
            recipients,
            [.. enabledSiteIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            settings ?? OrchestrationSettings.Default)
        {
            Delivery = meeting.DeliveryDestination,
        };
    }
}
