using System.Globalization;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// The checks before storing, through a whole registration on the real queues, staging and DICOM service: a site PACS
/// that filed another patient's instance in one of the selected studies (a mix-up a relay passes on faithfully).
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class StoreChecksEndToEndTests(LocalStackFixture stack)
{
    [Fact]
    public async Task A_study_holding_another_patients_instance_ends_with_identity_mismatch_and_nothing_stored_while_the_other_study_is_available()
    {
        var pacs = stack.Endpoints.Site("chu-nord");
        // The second study's last instance carries another birth date: another patient filed under this study.
        var patient = await PacsSeed.StoreAsync(pacs, (study, instance, ds) => study == 1 && instance == 2
            ? ds.AddOrUpdate(DicomTag.PatientBirthDate, ds.GetDate(DicomTag.PatientBirthDate).AddDays(1).ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            : ds, 2, 3);
        var (clean, mixed) = (patient.InstancesByStudy.Single(kv => kv.Value.Count == 2), patient.InstancesByStudy.Single(kv => kv.Value.Count == 3));
        var site = RuntimeSettings.NewSiteId("mixup");
        var settings = new RuntimeSettings(stack.Endpoints, [site]);
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true);
        await using var relay = ScriptedRelay.Start(stack.Endpoints, site, pacs, settings.EventsQueueFor(site));
        var client = runtime.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
        var waiting = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
        Assert.Equal(2, waiting.State.Candidates.Length); // the study-level answer is the first instance's: both offered
        await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [clean.Key, mixed.Key], "u-1"), CancellationToken.None);

        var done = await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);
        Assert.Equal(StudyStatus.Available, done.State.SelectedOf(clean.Key)!.Status);
        var refused = done.State.SelectedOf(mixed.Key)!;
        Assert.Equal((StudyStatus.Failed, StoreFailureCodes.IdentityMismatch), (refused.Status, refused.Failure!.Code));
        Assert.Equal(clean.Value.Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(stack.Endpoints, clean.Key));
        Assert.Empty(await Scenario.StoredInstancesAsync(stack.Endpoints, mixed.Key));
    }
}
