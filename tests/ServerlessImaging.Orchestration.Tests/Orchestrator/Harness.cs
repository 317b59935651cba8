using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>Drives one orchestration through events, keeping the latest transition.</summary>
internal sealed class Harness
{
    private int sequence;

    public Harness(RegistrationPlan? plan = null)
    {
        State = RegistrationState.Create(Fixtures.RegistrationId);
        Now = Fixtures.T0;
        Last = Apply(new RegistrationStarted("start", Now, plan ?? Fixtures.Plan()));
        AskEverySite();
    }

    public RegistrationState State { get; private set; }

    public DateTimeOffset Now { get; set; }

    public Transition Last { get; private set; }

    public List<OrchestrationEvent> History { get; } = [];

    public static string Find(string site, int round = 1, int attempt = 1) => CommandIds.Find(Fixtures.RegistrationId, site, round, attempt);

    /// <summary>The id of the <paramref name="n"/>-th transfer of a study (1 at its first selection, +1 per re-selection).</summary>
    public static string Transfer(string uid, int n = 1) => CommandIds.StudyTransfer(Fixtures.RegistrationId, uid, n);

    /// <summary>How the <paramref name="n"/>-th transfer of a study ended, as its sub-orchestration reports it.</summary>
    public static StudyTransferOutcome Outcome(string uid, StudyTransferResult result, int n = 1, string? site = "chu-nord", int stored = 0, StudyFailure? failure = null, bool mayHaveStored = false) =>
        new(Transfer(uid, n), uid, result, site, Attempts: 1, stored, failure, mayHaveStored);

    public Transition Apply(OrchestrationEvent e)
    {
        History.Add(e);
        Last = RegistrationOrchestrator.Apply(State, e);
        State = Last.State;
        return Last;
    }

    public string NextId(string prefix) => $"{prefix}-{++sequence}";

    /// <summary>
    /// What the orchestration's site searches do when a round opens: attempt 1 at every site of the round. <see cref="Last"/>
    /// is then the opening step with the attempts' commands (the FindStudies) added, as the orchestration commits them together.
    /// </summary>
    public Transition AskEverySite()
    {
        var opened = Last;
        var commands = opened.Commands.ToBuilder();
        foreach (var site in State.Sites.Where(s => s.Round == State.Round && s.Status == SiteSearchStatus.Searching && s.Attempt == 0))
        {
            commands.AddRange(Attempt(site.SiteId, 1).Commands);
        }

        return Last = opened with { State = State, Commands = commands.ToImmutable() };
    }

    /// <summary>A site's search asks it: attempt <paramref name="attempt"/> of the current round.</summary>
    public Transition Attempt(string site, int attempt, int inBurst = 1, FailureReason? previousFailure = null) =>
        Apply(new FindAttemptStarted(Find(site, State.Round, attempt), Now, site, State.Round, attempt, inBurst, previousFailure));

    /// <summary>A site's search stops asking after <paramref name="attempt"/>: until <paramref name="retryAt"/>, or for the round.</summary>
    public Transition GaveUp(string site, int attempt, FailureReason reason, DateTimeOffset? retryAt = null) =>
        Apply(new SiteSearchFailed(CommandIds.FindGaveUp(Find(site, State.Round, attempt)), Now, site, State.Round, attempt, reason, retryAt));

    /// <summary>The clinician asks for a new search; every site's search asks at once.</summary>
    public Transition Refresh(string id = "refresh")
    {
        Apply(new RefreshRequested(id, Now, "dr"));
        return AskEverySite();
    }

    public Transition Found(string site, int round = 1, int attempt = 1, params FoundStudy[] studies) =>
        Apply(new StudiesFoundAtSite(NextId("found"), Now, site, Find(site, round, attempt), studies));

    public Transition AllSitesAnswer(params FoundStudy[] studies)
    {
        Found("ch-est");
        Found("chu-nord", studies: studies);
        return Found("clinique-sud");
    }

    public Transition Select(params string[] uids) => Apply(new SelectionMade(NextId("select"), Now, uids, "dr-barbe"));

    /// <summary>A transfer's outcome comes back to the registration (a fresh event id each time).</summary>
    public Transition Settled(StudyTransferOutcome outcome) => Apply(new StudyTransferSettled(NextId("settled"), Now, outcome));

    /// <summary>The <paramref name="n"/>-th transfer of the study stored <paramref name="count"/> instances retrieved from <paramref name="site"/>.</summary>
    public Transition Available(string uid, int count = 2, int n = 1, string site = "chu-nord") =>
        Settled(Outcome(uid, StudyTransferResult.Available, n, site, stored: count, mayHaveStored: true));

    /// <summary>The <paramref name="n"/>-th transfer of the study gave up with <paramref name="failure"/>.</summary>
    public Transition TransferFailed(string uid, StudyFailure failure, int n = 1, string site = "chu-nord", bool mayHaveStored = false) =>
        Settled(Outcome(uid, StudyTransferResult.Failed, n, site, failure: failure, mayHaveStored: mayHaveStored));

    /// <summary>The <paramref name="n"/>-th transfer of the study stopped at the registration's request.</summary>
    public Transition TransferCancelled(string uid, int n = 1, bool mayHaveStored = false) =>
        Settled(Outcome(uid, StudyTransferResult.Cancelled, n, mayHaveStored: mayHaveStored));

    public Transition Timer(string timerId) => Apply(new DurableTimerFired(timerId, Now, timerId));

    public Transition Failed(string site, string commandId, FailureReason reason) =>
        Apply(new RelayCommandFailed(NextId("failed"), Now, site, commandId, reason, "safe message"));

    /// <summary>Every site answered (the studies at chu-nord), all selected, each in its first transfer.</summary>
    public static Harness Transferring(RegistrationPlan? plan, params string[] uids)
    {
        var h = new Harness(plan);
        h.Found("ch-est");
        h.Found("chu-nord", studies: [.. uids.Select(uid => Fixtures.Study(uid))]);
        h.Found("clinique-sud");
        h.Select(uids);
        foreach (var uid in uids)
        {
            Assert.Equal((StudyStatus.Retrieving, Transfer(uid)), (h.Study(uid).Status, h.Study(uid).CurrentCommandId));
        }

        return h;
    }

    public ImmutableArray<T> Commands<T>()
        where T : OrchestrationCommand => [.. Last.Commands.OfType<T>()];

    public SelectedStudy Study(string uid) => State.SelectedOf(uid) ?? throw new InvalidOperationException("not selected");

    public SiteSearch Site(string site) => State.SiteOf(site) ?? throw new InvalidOperationException("no site");
}
