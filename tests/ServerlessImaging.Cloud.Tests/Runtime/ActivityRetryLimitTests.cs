using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Email;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// Activities that keep failing transiently are retried by the Durable Task engine, then given up after the configured
/// attempts with their failure event (reason <c>gave_up_after_retries</c>), instead of being retried forever: the
/// expertise e-mail through the real SMTP sender pointed at a port nothing listens on, a deletion through Orthanc's REST
/// API at a closed port, on the real Cosmos DB stand-in and Azurite.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ActivityRetryLimitTests(LocalStackFixture stack)
{
    private StackEndpoints Endpoints => stack.Endpoints;

    [Fact]
    public async Task An_expertise_email_the_SMTP_relay_never_takes_is_given_up_after_the_retry_limit_and_audited_as_failed()
    {
        var pacs = Endpoints.Site("chu-nord");
        var patient = await PacsSeed.StoreAsync(pacs, 1);
        var site = RuntimeSettings.NewSiteId("smtp");
        var settings = new RuntimeSettings(Endpoints, [site])
        {
            Extra = { ["Orchestration:ActivityMaxAttempts"] = "3", ["Orchestration:ActivityFirstRetryInterval"] = "00:00:01", ["Orchestration:ActivityMaxRetryInterval"] = "00:00:01" },
        };
        var audit = new RecordingAuditSink();
        var smtp = new SmtpOptions { Host = "127.0.0.1", Port = ClosedPort(), Security = SmtpSecurity.None, From = "rcp@example.org" };
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services =>
        {
            services.AddSingleton<IAuditSink>(audit);
            services.AddSingleton(smtp);
            services.AddSingleton<ISentEmailLedger>(sp => new CosmosSentEmailLedger(sp.GetRequiredService<CosmosClient>().GetContainer(settings.DatabaseName, "idempotency")));
            services.AddSingleton<IEmailSender, SmtpEmailSender>();
        });
        await using var relay = ScriptedRelay.Start(Endpoints, site, pacs, settings.EventsQueueFor(site));
        var client = runtime.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id) with { OnCallRadiologist = new Physician("Dr Garde", "garde@example.org") };
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
        await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [.. patient.InstancesByStudy.Keys], "u-1"), CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);

        var requested = await client.RaiseEventAsync(id, new ExpertiseRequested("exp-" + id, DateTimeOffset.UtcNow, "u-1"), CancellationToken.None);
        Assert.Equal(DispositionKind.Applied, requested!.Disposition.Kind);

        // Refused connections are transient: retried by the engine, then given up after the third attempt.
        var failed = await Scenario.WaitForAsync(client, id, s => s.State.Expertise == ExpertiseStatus.Failed);
        var record = Assert.Single(audit.Records, r => r.RegistrationId == id && r.Action == AuditAction.ExpertiseFailed);
        Assert.StartsWith(ActivityOutcomes.GaveUpReasonCode + ": Gave up after ", record.Detail, StringComparison.Ordinal);
        Assert.Contains("(last error: ", record.Detail, StringComparison.Ordinal);
        Assert.StartsWith(ActivityOutcomes.GaveUpReasonCode + ": Gave up after 3 failed attempts", record.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(audit.Records, r => r.RegistrationId == id && r.Action == AuditAction.ExpertiseSent);

        // Settled: nothing retries it any more.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(audit.Records, r => r.RegistrationId == id && r.Action == AuditAction.ExpertiseFailed);
        Assert.Equal(ExpertiseStatus.Failed, (await client.GetStatusAsync(id, CancellationToken.None))!.State.Expertise);
        Assert.Equal(failed.State.Version, (await client.GetStatusAsync(id, CancellationToken.None))!.State.Version);
    }

    [Fact]
    public async Task A_study_deletion_the_DICOM_service_never_carries_out_is_given_up_and_audited_as_failed()
    {
        var pacs = Endpoints.Site("chu-nord");
        var patient = await PacsSeed.StoreAsync(pacs, 1);
        var site = RuntimeSettings.NewSiteId("delete");

        // Orthanc's DICOMweb has no DELETE (405); locally the store then deletes through Orthanc's REST API, here at a
        // port nothing listens on: every deletion fails with a refused connection, which retrying could cure.
        var settings = new RuntimeSettings(Endpoints, [site])
        {
            Extra =
            {
                ["Orchestration:ActivityMaxAttempts"] = "3",
                ["Orchestration:ActivityFirstRetryInterval"] = "00:00:01",
                ["Orchestration:ActivityMaxRetryInterval"] = "00:00:01",
                ["DicomWeb:OrthancRestUrl"] = $"http://127.0.0.1:{ClosedPort()}/",
            },
        };
        var audit = new RecordingAuditSink();
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services => services.AddSingleton<IAuditSink>(audit));
        await using var relay = ScriptedRelay.Start(Endpoints, site, pacs, settings.EventsQueueFor(site));
        var client = runtime.Get<IRegistrationOrchestrationClient>();

        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, patient.Identity), "key-" + id, CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.WaitingForSelection);
        var uid = patient.InstancesByStudy.Keys.Single();
        await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [uid], "u-1"), CancellationToken.None);
        await Scenario.WaitForAsync(client, id, s => s.Status == RegistrationStatus.Completed);

        var requested = await client.RaiseEventAsync(id, new StudyDeleteRequested("del-" + id, DateTimeOffset.UtcNow, uid, "u-1"), CancellationToken.None);
        Assert.Equal(DispositionKind.Applied, requested!.Disposition.Kind);

        await Scenario.WaitUntilAsync(() => Task.FromResult(audit.Records.Any(r => r.RegistrationId == id && r.Action == AuditAction.StudyDeletionFailed)), "the deletion given up");
        var record = Assert.Single(audit.Records, r => r.RegistrationId == id && r.Action == AuditAction.StudyDeletionFailed);
        Assert.StartsWith(ActivityOutcomes.GaveUpReasonCode + ": Gave up after ", record.Detail, StringComparison.Ordinal);
        Assert.Equal(uid, record.StudyInstanceUid);
        // The read model follows the trail (written after it, in the same commit).
        await Scenario.WaitForAsync(client, id, s => s.State.Selected.Single().Failure?.Code == "removal_failed");

        // The study is still in the DICOM service, as the failure says.
        Assert.Equal(patient.InstancesByStudy[uid].Order(StringComparer.Ordinal), await Scenario.StoredInstancesAsync(Endpoints, uid));
    }

    private static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class RecordingAuditSink : IAuditSink
    {
        private readonly ConcurrentQueue<WriteAuditActivity> records = new();

        public IReadOnlyCollection<WriteAuditActivity> Records => records;

        public Task WriteAsync(WriteAuditActivity record, CancellationToken cancellationToken)
        {
            records.Enqueue(record);
            return Task.CompletedTask;
        }
    }
}
