using Microsoft.DurableTask;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// The site searches of one registration's execution, each one site in one round as linear code
/// (<see cref="SearchSiteAsync"/>). A search's steps (<see cref="FindAttemptStarted"/>, the site's answer,
/// <see cref="SiteSearchFailed"/>) go through the registration's state like any event (<c>record</c>), so its
/// FindStudies commands and audit records leave with the registration's next commit. The site's answers arrive as the
/// external event <see cref="RegistrationDocuments.SiteSearchEventName"/>, which only the site's search waits for.
/// </summary>
internal sealed class SiteSearches(TaskOrchestrationContext context, Func<RegistrationState> currentState, Action<OrchestrationEvent> record, CancellationToken timersCancelled)
{
    // One attempt's answers are a handful; a relay flooding its site's event cannot keep a search reading forever.
    private const int MaxEventsPerWait = 1_000;

    // The meeting's start ends the bursts of an unreachable site; this only bounds the loop.
    private const int MaxBursts = 10_000;

    private readonly Dictionary<string, SiteEvents> siteEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<DateTime, Task> searchTimers = [];
    private readonly List<SiteSearchRun> searches = [];
    private TaskCompletionSource? supersedeSearches;
    private int searchedRound;

    // Every search ended: the registration may end.
    public bool Done => searches.TrueForAll(s => s.Ended);

    // Every search ended or waits to ask an unreachable site again (the state says until when): the history may restart.
    public bool Quiet => searches.TrueForAll(s => s.Ended || s.WaitingToRetry);

    /// <summary>
    /// Starts one search per site of the state's round, once (at the start, after a refresh, and in a new execution
    /// for the sites still waiting for their next burst), and stops those of an earlier round; the purge stops all.
    /// </summary>
    public void Follow()
    {
        var state = currentState();
        if (state.Plan is null)
        {
            return;
        }

        if (state.PurgedAt is not null)
        {
            Stop();
            return;
        }

        if (state.Round <= searchedRound)
        {
            return;
        }

        Stop();
        searchedRound = state.Round;
        supersedeSearches = new TaskCompletionSource();
        searches.RemoveAll(s => s.Ended);
        foreach (var site in state.Sites.Where(s => s.Round == state.Round && s.Status is SiteSearchStatus.Searching or SiteSearchStatus.Unreachable))
        {
            var run = new SiteSearchRun();
            searches.Add(run);
            run.Track(SearchSiteAsync(site, supersedeSearches.Task, run));
        }
    }

    // The searches in flight stop at their next wait (a new round, the purge, a history restart, the end).
    public void Stop() => supersedeSearches?.TrySetResult();

    /// <summary>
    /// One site's search in one round, as the flow goes: ask the site; wait for its answer or the attempt's timeout;
    /// after a failure a later attempt may cure, ask again at once, up to a burst of attempts; then, while the meeting
    /// is far enough, record the site unreachable, wait (a durable timer, or the relay's word that its PACS answers
    /// again) and ask another burst. It ends when the site answered, failed for good, or the search was superseded.
    /// </summary>
    private async Task SearchSiteAsync(SiteSearch site, Task superseded, SiteSearchRun run)
    {
        var plan = currentState().Plan!;
        var settings = plan.Settings;
        var (siteId, round, attempt, lastFailure) = (site.SiteId, site.Round, site.Attempt, site.LastFailure);
        var waitUntil = site.Status == SiteSearchStatus.Unreachable ? site.NextAttemptAt : null;
        var events = EventsOf(siteId);
        for (var burst = 0; burst < MaxBursts; burst++)
        {
            if (waitUntil is { } retryAt)
            {
                run.WaitingToRetry = true;
                var askAgain = await WaitToAskAgainAsync(events, siteId, round, TimerAt(retryAt), superseded);
                run.WaitingToRetry = false;
                if (!askAgain)
                {
                    return;
                }
            }

            var findId = string.Empty;
            for (var inBurst = 1; inBurst <= Math.Max(1, settings.MaxFindAttemptsPerBurst); inBurst++)
            {
                findId = CommandIds.Find(plan.Registration.Id, siteId, round, ++attempt);
                record(new FindAttemptStarted(findId, Now, siteId, round, attempt, inBurst, lastFailure));
                var failure = await AttemptAsync(events, siteId, round, findId, TimerAt(Now + settings.FindTimeout), superseded);
                if (failure is null)
                {
                    return; // Answered, or superseded.
                }

                lastFailure = failure;
                if (!RegistrationOrchestrator.IsTransientFindFailure(failure.Value))
                {
                    break;
                }
            }

            var next = Now + settings.UnreachableRetryInterval;
            var giveUp = !RegistrationOrchestrator.IsTransientFindFailure(lastFailure!.Value) || next >= plan.MeetingStartsAt;
            record(new SiteSearchFailed(CommandIds.FindGaveUp(findId), Now, siteId, round, attempt, lastFailure.Value, giveUp ? null : next));
            if (giveUp)
            {
                return;
            }

            waitUntil = next;
        }
    }

    /// <summary>
    /// How one attempt ended: null once the site answered this round (its answer applied: the state judges answers,
    /// and one to an earlier attempt of the round counts) or the search was superseded; otherwise why it failed (the
    /// relay's reason for this very attempt, or <see cref="FailureReason.Timeout"/>).
    /// </summary>
    private async Task<FailureReason?> AttemptAsync(SiteEvents events, string siteId, int round, string findId, Task timeout, Task superseded)
    {
        for (var read = 0; read < MaxEventsPerWait; read++)
        {
            var (end, @event) = await events.NextBeforeAsync(timeout, superseded);
            if (end != WaitEnd.Event)
            {
                return end == WaitEnd.Superseded ? null : FailureReason.Timeout;
            }

            switch (@event)
            {
                case StudiesFoundAtSite found:
                    record(found);
                    if (HasAnswered(siteId, round))
                    {
                        return null;
                    }

                    break;
                case RelayCommandFailed failed when string.Equals(failed.CommandId, findId, StringComparison.Ordinal):
                    return failed.Reason;
            }
        }

        return FailureReason.Internal;
    }

    /// <summary>
    /// Waits until an unreachable site is to be asked again: true at the retry time, or at once when its relay says
    /// its PACS answers again; false when the site answered meanwhile (a late answer to an earlier attempt) or the
    /// search was superseded.
    /// </summary>
    private async Task<bool> WaitToAskAgainAsync(SiteEvents events, string siteId, int round, Task retryTimer, Task superseded)
    {
        for (var read = 0; read < MaxEventsPerWait; read++)
        {
            var (end, @event) = await events.NextBeforeAsync(retryTimer, superseded);
            if (end != WaitEnd.Event)
            {
                return end == WaitEnd.Timer;
            }

            switch (@event)
            {
                case SiteHeartbeat { PacsReachable: true }:
                    return true;
                case StudiesFoundAtSite found:
                    record(found);
                    if (HasAnswered(siteId, round))
                    {
                        return false;
                    }

                    break;
            }
        }

        return true;
    }

    private bool HasAnswered(string siteId, int round) => currentState().SiteOf(siteId) is { Status: SiteSearchStatus.Searched } site && site.Round == round;

    private SiteEvents EventsOf(string siteId)
    {
        if (!siteEvents.TryGetValue(siteId, out var events))
        {
            siteEvents[siteId] = events = new SiteEvents(context, siteId);
        }

        return events;
    }

    // One durable timer per instant: a round's sites are asked at the same time, so their attempts' timeouts share
    // one (every durable timer costs a queue message and an episode when it fires, even once nobody waits for it).
    private Task TimerAt(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        if (!searchTimers.TryGetValue(utc, out var timer))
        {
            searchTimers[utc] = timer = context.CreateTimer(utc, timersCancelled);
        }

        return timer;
    }

    private DateTimeOffset Now => new(context.CurrentUtcDateTime, TimeSpan.Zero);

    /// <summary>A site's events, one waiter at a time (a second waiter would take the next event while the first still waits).</summary>
    private sealed class SiteEvents(TaskOrchestrationContext context, string siteId)
    {
        private Task<string>? pending;

        /// <summary>
        /// The site's next event (null when it is not an event document), unless <paramref name="timer"/> fires or
        /// <paramref name="superseded"/> completes first; an event not taken stays for the next wait.
        /// </summary>
        public async Task<(WaitEnd End, OrchestrationEvent? Event)> NextBeforeAsync(Task timer, Task superseded)
        {
            pending ??= context.WaitForExternalEvent<string>(RegistrationDocuments.SiteSearchEventName(siteId));
            var done = await Task.WhenAny(pending, timer, superseded);
            if (done == superseded)
            {
                return (WaitEnd.Superseded, null);
            }

            if (done != pending)
            {
                return (WaitEnd.Timer, null);
            }

            var document = await pending;
            pending = null;
            return (WaitEnd.Event, RegistrationDocuments.TryReadEvent(document));
        }
    }

    /// <summary>What ended a wait for a site's event.</summary>
    private enum WaitEnd
    {
        Event,
        Timer,
        Superseded,
    }

    /// <summary>Where one site's search stands, for the loop.</summary>
    private sealed class SiteSearchRun
    {
        private Task? completion;

        public bool WaitingToRetry { get; set; }

        public bool Ended => completion?.IsCompleted ?? false;

        public void Track(Task search) => completion = search;
    }
}
