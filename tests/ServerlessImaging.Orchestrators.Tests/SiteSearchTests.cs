using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Orchestrators.Tests;

/// <summary>
/// A registration's site searches on the real engine (in-process test host): how a site is asked again, given up on,
/// waited for and superseded, as the registration's site searches decide it (`Registrations/SiteSearches.cs`).
/// </summary>
public sealed class SiteSearchTests
{
    private const string StudyA = "1.2.250.1.10";

    private static RelayCommandFailed FindFailed(string reg, string site, int attempt, FailureReason reason, int round = 1)
    {
        var findId = CommandIds.Find(reg, site, round, attempt);
        return new RelayCommandFailed(findId + "/failed", DateTimeOffset.UtcNow, site, findId, reason, "safe message");
    }

    private static StudiesFoundAtSite FoundBy(string reg, string site, int attempt, int round = 1, params string[] uids)
    {
        var findId = CommandIds.Find(reg, site, round, attempt);
        return new StudiesFoundAtSite(findId + "/found", DateTimeOffset.UtcNow, site, findId, [.. uids.Select(TestData.Study)]);
    }

    [Fact]
    public async Task A_pacs_refusing_the_query_fails_the_site_at_once_without_another_attempt()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-refused";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b")));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));

        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.PacsRejected));
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA));

        var failed = await harness.WaitForAuditAsync(AuditAction.SiteFailed, "site-a");
        Assert.Equal("reason=PacsRejected attempts=1 (permanent failure)", failed.Detail);
        var ready = await harness.WaitForAuditAsync(AuditAction.CandidatesReady);
        Assert.Equal((SiteSearchStatus.Failed, FailureReason.PacsRejected), (harness.StateRecordedWith(ready).SiteOf("site-a")!.Status, harness.StateRecordedWith(ready).SiteOf("site-a")!.LastFailure));
        Assert.Single(harness.RelayCommands, c => c.Value is FindStudiesActivity { SiteId: "site-a" });
    }

    [Fact]
    public async Task Transient_failures_are_asked_again_in_a_burst_then_after_the_retry_interval_and_the_late_answer_joins_the_list()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-bursts";
        var settings = OrchestrationSettings.Default with { UnreachableRetryInterval = TimeSpan.FromSeconds(3) };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings));
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA));

        // Each failure of the attempt in flight is asked again at once, up to the burst of three.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, attempt));
            await harness.RaiseAsync(FindFailed(reg, "site-a", attempt, FailureReason.PacsUnreachable));
        }

        var unreachable = await harness.WaitForAuditAsync(AuditAction.SiteUnreachable, "site-a");
        Assert.Equal("reason=PacsUnreachable attempts=3", unreachable.Detail);
        Assert.Equal(unreachable.At + settings.UnreachableRetryInterval, harness.StateRecordedWith(unreachable).SiteOf("site-a")!.NextAttemptAt);

        // At the retry time, a new burst; its answer ends the search.
        var fourth = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 4));
        Assert.True(fourth.At - unreachable.At >= settings.UnreachableRetryInterval - TimeSpan.FromMilliseconds(50), $"asked again {fourth.At - unreachable.At} after being found unreachable");
        await harness.RaiseAsync(FoundBy(reg, "site-a", 4, uids: ["1.2.250.1.11"]));

        var searched = await harness.WaitForAuditAsync(AuditAction.SiteSearched, "site-a");
        var site = harness.StateRecordedWith(searched).SiteOf("site-a")!;
        Assert.Equal((SiteSearchStatus.Searched, 4, 1, null), (site.Status, site.Attempt, site.AttemptsInBurst, site.NextAttemptAt));
        Assert.Equal([StudyA, "1.2.250.1.11"], harness.StateRecordedWith(searched).Candidates.Select(c => c.StudyInstanceUid));
        Assert.Equal(4, harness.RelayCommands.Count(c => c.Value is FindStudiesActivity { SiteId: "site-a" }));
    }

    [Fact]
    public async Task A_relay_saying_its_pacs_answers_again_is_asked_at_once_and_a_failure_of_an_earlier_attempt_is_ignored()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-heartbeat";
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a"), OrchestrationSettings.Default with { MaxFindAttemptsPerBurst = 2 }));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.PacsUnreachable));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 2));
        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.PacsUnreachable) with { EventId = "again" }); // not the attempt in flight
        await harness.RaiseAsync(FindFailed(reg, "site-a", 2, FailureReason.Timeout));
        await harness.WaitForAuditAsync(AuditAction.SiteUnreachable, "site-a");

        // The retry interval is ten minutes; a heartbeat whose C-ECHO failed changes nothing, one that succeeded asks now.
        await harness.RaiseAsync(new SiteHeartbeat("hb-down", DateTimeOffset.UtcNow, "site-a", PacsReachable: false));
        await harness.RaiseAsync(new SiteHeartbeat("hb-up", DateTimeOffset.UtcNow, "site-a", PacsReachable: true));
        var third = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 3));
        Assert.Equal("site-a", third.Value.SiteId);
        var state = await harness.WaitForStateAsync(s => s.SiteOf("site-a")!.Attempt == 3, "the third attempt recorded");
        Assert.Equal((SiteSearchStatus.Searching, 1, FailureReason.Timeout, null), (state.SiteOf("site-a")!.Status, state.SiteOf("site-a")!.AttemptsInBurst, state.SiteOf("site-a")!.LastFailure, state.SiteOf("site-a")!.NextAttemptAt));
    }

    [Fact]
    public async Task A_site_whose_next_burst_would_come_after_the_meeting_fails_for_the_round()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-meeting";
        var settings = OrchestrationSettings.Default with { MaxFindAttemptsPerBurst = 1 };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a"), settings, meetingStartsAt: DateTimeOffset.UtcNow.AddMinutes(5)));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 1));
        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.PacsUnreachable));

        var failed = await harness.WaitForAuditAsync(AuditAction.SiteFailed, "site-a");
        Assert.Equal("reason=PacsUnreachable attempts=1 (unreachable until the meeting)", failed.Detail);
        Assert.Equal(RegistrationStatus.Failed, harness.StateRecordedWith(failed).Status);
    }

    [Fact]
    public async Task A_refresh_supersedes_a_search_waiting_to_retry_and_round_one_answers_are_stale()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-refresh";
        var settings = OrchestrationSettings.Default with { MaxFindAttemptsPerBurst = 1, UnreachableRetryInterval = TimeSpan.FromSeconds(3) };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings));
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA));
        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.Timeout));
        await harness.WaitForAuditAsync(AuditAction.SiteUnreachable, "site-a");

        await harness.RaiseAsync(new RefreshRequested(reg + "/refresh-1", DateTimeOffset.UtcNow, "dr-barbe"));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 2, 1));
        await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-b", 2, 1));
        await harness.RaiseAsync(FoundBy(reg, "site-b", 1, round: 1, "1.2.250.1.99")); // round 1: stale
        await harness.RaiseAsync(FoundBy(reg, "site-a", 1, round: 2, StudyA));
        await harness.RaiseAsync(FoundBy(reg, "site-b", 1, round: 2, StudyA));

        var ready = await harness.WaitForStateAsync(s => s.Round == 2 && s.FanInDone, "round 2 fanned in");
        Assert.Equal([StudyA], ready.Candidates.Select(c => c.StudyInstanceUid));

        // Round 1's search of site-a waited for its retry time; superseded, it never asks again.
        await Task.Delay(settings.UnreachableRetryInterval + TimeSpan.FromSeconds(1), harness.Timeout);
        Assert.DoesNotContain(harness.RelayCommands, c => c.Value.CommandId == CommandIds.Find(reg, "site-a", 1, 2));
    }

    [Fact]
    public async Task A_new_history_resumes_the_wait_of_an_unreachable_site_and_asks_it_at_its_retry_time()
    {
        await using var harness = await OrchestrationHarness.StartAsync();
        const string reg = "reg-it-search-resume";
        var settings = OrchestrationSettings.Default with { MaxFindAttemptsPerBurst = 1, UnreachableRetryInterval = TimeSpan.FromSeconds(4) };
        await harness.StartRegistrationAsync(TestData.Plan(reg, TestData.Sites("site-a", "site-b"), settings), stepsPerHistory: 2);
        await harness.RaiseAsync(TestData.Found(reg, "site-b", StudyA));
        await harness.RaiseAsync(FindFailed(reg, "site-a", 1, FailureReason.PacsUnreachable));
        var unreachable = await harness.WaitForAuditAsync(AuditAction.SiteUnreachable, "site-a");

        // The only search left waits to ask again: the history restarts, carrying the site's retry time in the state.
        var carried = await harness.WaitForResultAsync(
            async () => (await harness.CurrentInputAsync()) is { StateDocument: { } document } input && RegistrationDocuments.ReadState(document).SiteOf("site-a")!.Status == SiteSearchStatus.Unreachable ? input : null,
            "a continue-as-new while site-a waits");
        Assert.Equal(unreachable.At + settings.UnreachableRetryInterval, RegistrationDocuments.ReadState(carried.StateDocument!).SiteOf("site-a")!.NextAttemptAt);

        var second = await harness.WaitForRelayCommandAsync<FindStudiesActivity>(CommandIds.Find(reg, "site-a", 1, 2));
        Assert.True(second.At - unreachable.At >= settings.UnreachableRetryInterval - TimeSpan.FromMilliseconds(50), $"asked again {second.At - unreachable.At} after being found unreachable");
        await harness.RaiseAsync(FoundBy(reg, "site-a", 2, uids: StudyA));
        var searched = await harness.WaitForAuditAsync(AuditAction.SiteSearched, "site-a");
        Assert.Equal(["site-a", "site-b"], harness.StateRecordedWith(searched).Candidates.Single().SiteIds.AsEnumerable());
        Assert.Single(harness.RelayCommands, c => c.Value.CommandId == CommandIds.Find(reg, "site-a", 1, 2));
    }
}
