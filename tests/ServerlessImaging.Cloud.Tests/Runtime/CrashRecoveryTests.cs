using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// The app runs as a separate process and dies in the middle of the StoreStudy activity (SI_FAULT crash-mid-store,
/// Environment.FailFast after its first STOW-RS batch); a second process takes the activity up again once the dead
/// one's work item lease ends, and the registration completes with exactly the selected instances in the DICOM
/// service, StoreStudy sending only what was not yet stored.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class CrashRecoveryTests(LocalStackFixture stack)
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public Task Crash_in_the_middle_of_store_study_resumes_with_the_missing_instances_only() =>
        RunAsync("crash-mid-store", instances: 3, storeBatchSize: 1, storedAtCrash: 1, sentAfterRestart: 2);

    private async Task RunAsync(string fault, int instances, int storeBatchSize, int storedAtCrash, int sentAfterRestart)
    {
        var endpoints = stack.Endpoints;
        var pacs = endpoints.Site("chu-nord");
        var patient = await PacsSeed.StoreAsync(pacs, instances);
        var (studyUid, sops) = patient.InstancesByStudy.Single();
        var site = RuntimeSettings.NewSiteId("crash");
        var settings = new RuntimeSettings(endpoints, [site]) { StoreBatchSize = storeBatchSize };

        // This process only starts the registration and raises the selection (the API's part) and plays the relay.
        await using var clientSide = await RuntimeHarness.StartAsync(settings, withWorkers: false);
        await using var relay = ScriptedRelay.Start(endpoints, site, pacs, settings.EventsQueueFor(site));
        var client = clientSide.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await using (var doomed = AppProcess.Start(stack.RepositoryRootPath, settings, fault))
        {
            await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
            await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
            await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [studyUid], "u-1"), CancellationToken.None);

            await doomed.WaitForExitAsync(ExitDeadline);
            Assert.NotEqual(0, doomed.ExitCode);
            Assert.Contains("SI_FAULT: injected crash", doomed.Output, StringComparison.Ordinal);
        }

        // The store runs alongside the recording of the step that started it, so the read model may not show Storing yet.
        var atCrash = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.Contains(atCrash.State.SelectedOf(studyUid)!.Status, new[] { StudyStatus.Retrieving, StudyStatus.Storing });
        Assert.Equal(storedAtCrash, (await Scenario.StoredInstancesAsync(endpoints, studyUid)).Length);

        await using var restarted = AppProcess.Start(stack.RepositoryRootPath, settings, fault: null);
        var done = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);
        Assert.Equal(StudyStatus.Available, done.State.SelectedOf(studyUid)!.Status);
        Assert.Equal(sops.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(endpoints, studyUid));
        Assert.Empty(await Scenario.StagedBlobsAsync(endpoints, id));
        Assert.Contains($"({instances} instances, {sentAfterRestart} sent now)", restarted.Output, StringComparison.Ordinal);
        Assert.False(restarted.HasExited, "The restarted app must keep running. Output:\n" + restarted.Output);
    }
}
