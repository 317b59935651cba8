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
    }

    public RegistrationState State { get; private set; }

    public DateTimeOffset Now { get; set; }

    public Transition Last { get; private set; }

    public List<OrchestrationEvent> History { get; } = [];

    public static string Find(string site, int round = 1, int attempt = 1) => CommandIds.Find(Fixtures.RegistrationId, site, round, attempt);

    public static string Retrieve(string uid, int attempt = 1) => CommandIds.Retrieve(Fixtures.RegistrationId, uid, attempt);

    public static string Store(string uid, int attempt = 1) => CommandIds.Store(Fixtures.RegistrationId, uid, attempt);

    public Transition Apply(OrchestrationEvent e)
    {
        History.Add(e);
        Last = RegistrationOrchestrator.Apply(State, e);
        State = Last.State;
        return Last;
    }

    public string NextId(string prefix) => $"{prefix}-{++sequence}";

    public Transition Found(string site, int round = 1, int attempt = 1, params FoundStudy[] studies) =>
        Apply(new StudiesFoundAtSite(NextId("found"), Now, site, Find(site, round, attempt), studies));

    public Transition AllSitesAnswer(params FoundStudy[] studies)
    {
        Found("ch-est");
        Found("chu-nord", studies: studies);
        return Found("clinique-sud");
    }

    public Transition Select(params string[] uids) => Apply(new SelectionMade(NextId("select"), Now, uids, "dr-barbe"));

    public Transition Completed(string site, string uid, int attempt = 1, int count = 2) =>
        Apply(new RetrievalFinished(NextId("done"), Now, site, Retrieve(uid, attempt), uid, Fixtures.Listed(Fixtures.Manifest(uid, count), uid)));

    public Transition Stored(string uid, int attempt = 1, int count = 2) =>
        Apply(new StoreStudyCompleted(NextId("stored"), Now, Store(uid, attempt), uid, count));

    public Transition Timer(string timerId) => Apply(new DurableTimerFired(timerId, Now, timerId));

    public Transition Failed(string site, string commandId, FailureReason reason) =>
        Apply(new RelayCommandFailed(NextId("failed"), Now, site, commandId, reason, "safe message"));

    /// <summary>Every site answered (the studies at chu-nord), all selected, each retrieved and now being stored.</summary>
    public static Harness Storing(RegistrationPlan? plan, params string[] uids)
    {
        var h = new Harness(plan);
        h.Found("ch-est");
        h.Found("chu-nord", studies: [.. uids.Select(uid => Fixtures.Study(uid))]);
        h.Found("clinique-sud");
        h.Select(uids);
        foreach (var uid in uids)
        {
            h.Completed("chu-nord", uid);
            Assert.Equal(StudyStatus.Storing, h.Study(uid).Status);
        }

        return h;
    }

    public ImmutableArray<T> Commands<T>()
        where T : OrchestrationCommand => [.. Last.Commands.OfType<T>()];

    public SelectedStudy Study(string uid) => State.SelectedOf(uid) ?? throw new InvalidOperationException("not selected");

    public SiteSearch Site(string site) => State.SiteOf(site) ?? throw new InvalidOperationException("no site");
}
