using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>Tuning of the orchestration runtime (section <c>Orchestration</c>).</summary>
public sealed class RuntimeOptions
{
    /// <summary>Sites every registration searches (<c>Sites__Ids</c>, comma-separated).</summary>
    public IReadOnlyList<string> SiteIds { get; set; } = [];

    /// <summary>
    /// Prefix of the sites' events queues: <c>relay-events-</c> (<see cref="Contracts.ResourceNames.EventsQueuePrefix"/>);
    /// tests give each run a prefix of its own so parallel runs never share a queue.
    /// </summary>
    public string EventsQueuePrefix { get; set; } = Contracts.ResourceNames.EventsQueuePrefix;

    /// <summary>The events queue of <paramref name="siteId"/>: only that site's relay may send to it.</summary>
    public string EventsQueueFor(string siteId) =>
        string.Equals(EventsQueuePrefix, Contracts.ResourceNames.EventsQueuePrefix, StringComparison.Ordinal)
            ? Contracts.ResourceNames.EventsQueueFor(siteId)
            : EventsQueuePrefix + siteId;

    /// <summary>
    /// Standalone mode: how long a received relay event stays hidden from other receivers. An event the app held when
    /// it died comes back after this lease, so it bounds how late a crashed app's events are applied.
    /// </summary>
    public TimeSpan EventsVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Standalone mode: longest wait between two polls of an idle events queue (the poll delay doubles from 100 ms up to
    /// this). Bounds how late a relay's event is seen once things go quiet; host.json's <c>maxPollingInterval</c> is the
    /// same knob for the Functions host.
    /// </summary>
    public TimeSpan EventsMaxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Attempts of an activity with an outcome (StoreStudy, DeleteStudy, PurgeStudies, SendExpertiseEmail) that keeps
    /// failing transiently before it is given up and its failure event recorded (reason <c>gave_up_after_retries</c>).
    /// </summary>
    public int ActivityMaxAttempts { get; set; } = ActivityRetrySettings.Default.MaxAttempts;

    /// <summary>Delay before the second attempt; each further delay doubles, up to <see cref="ActivityMaxRetryInterval"/>.</summary>
    public TimeSpan ActivityFirstRetryInterval { get; set; } = ActivityRetrySettings.Default.FirstRetryInterval;

    /// <summary>The longest delay between two attempts.</summary>
    public TimeSpan ActivityMaxRetryInterval { get; set; } = ActivityRetrySettings.Default.MaxRetryInterval;

    /// <summary>The retry of activities with an outcome, as the orchestration receives it when it starts.</summary>
    public ActivityRetrySettings ActivityRetry => new(ActivityMaxAttempts, ActivityFirstRetryInterval, ActivityRetrySettings.Default.BackoffCoefficient, ActivityMaxRetryInterval);

    /// <summary>Steps a registration's orchestration history holds before it restarts (continue-as-new) at a quiet moment.</summary>
    public int StepsPerHistory { get; set; } = 50;

    /// <summary>Lifetime of the write-only staging SAS handed to a relay with each RetrieveStudy.</summary>
    public TimeSpan StagingCredentialLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Lifetime of the delivery token handed to a relay with each DeliverStudy (it reads one study through the delivery
    /// source until then; a longer delivery fails with CredentialRejected and is retried, resuming, with a new token).
    /// </summary>
    public TimeSpan DeliveryCredentialLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Instances per STOW-RS request of the StoreStudy activity.</summary>
    public int StoreBatchSize { get; set; } = 50;

    /// <summary>Optional override of the orchestrator's timeouts (tests use seconds instead of minutes).</summary>
    public TimeSpan? FindTimeout { get; set; }

    /// <summary>Optional override of the delay between bursts of an unreachable site.</summary>
    public TimeSpan? UnreachableRetryInterval { get; set; }

    /// <summary>Optional override of the delay before a study that failed transiently at every site holding it is tried again.</summary>
    public TimeSpan? RetrievalRetryInterval { get; set; }

    /// <summary>Optional override of the rounds over the sites holding a study, the first included (1: no automatic retry).</summary>
    public int? MaxRetrievalRounds { get; set; }
}
