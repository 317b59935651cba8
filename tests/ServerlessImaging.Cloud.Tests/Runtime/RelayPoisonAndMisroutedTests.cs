using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Tests.Api;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Testing.Metrics;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>
/// Relay messages that are not ordinary events, through the standalone listener on the real Azurite queues: a relay's
/// unsolicited report of a message it quarantined (logged, counted, completed) and a command put on the events queue
/// (quarantined with that reason).
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class RelayPoisonAndMisroutedTests(LocalStackFixture stack)
{
    [Fact]
    public async Task An_unsolicited_poison_report_is_logged_and_counted_and_a_command_on_the_events_queue_is_quarantined_as_such()
    {
        var endpoints = stack.Endpoints;
        var site = RuntimeSettings.NewSiteId("poison");
        var settings = new RuntimeSettings(endpoints, [site]);
        var logs = new RecordingLoggerProvider();
        using var counters = new MeterTotals(RelayEventMetrics.MeterName);
        await using var runtime = await RuntimeHarness.StartAsync(settings, withWorkers: true, services => services.AddSingleton<ILoggerProvider>(logs));

        // What a relay sends when it quarantines a message it cannot read, and a command sent to the wrong queue.
        var channel = ScriptedRelay.CreateChannel(endpoints);
        var quarantinedId = "cmd-" + Guid.NewGuid().ToString("N");
        var report = new MessageEnvelope($"{site}/poison/{Guid.NewGuid():N}", RelayPoisonReports.UnsolicitedCorrelationId, quarantinedId, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion,
            new CommandFailed("LaunchRocket", FailureReason.InvalidCommand, $"Queue message t-1 from relay-commands-{site} quarantined: it breaks the message contract, kept in relay-poison-{site} (UnknownType)."));
        var command = new MessageEnvelope("cmd-" + Guid.NewGuid().ToString("N"), Scenario.NewRegistrationId(), null, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion,
            new FindStudiesCommand(new PatientQueryKeys(new DateOnly(1950, 1, 2), "M"), [], null, null));
        await channel.SendAsync(settings.EventsQueueFor(site), report, CancellationToken.None);
        await channel.SendAsync(settings.EventsQueueFor(site), command, CancellationToken.None);

        // The command is quarantined with the reason saying what it is; the report is not (the relay keeps the original).
        var poison = new QueueClient(endpoints.Storage.ConnectionString, PoisonQueues.For(settings.EventsQueueFor(site)), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var events = new QueueClient(endpoints.Storage.ConnectionString, settings.EventsQueueFor(site));
        await Scenario.WaitUntilAsync(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(10)).Value.Length > 0, "the command in the events poison queue");
        await Scenario.WaitUntilAsync(async () => (await events.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the events queue drained");
        var record = PoisonRecord.Parse(Assert.Single((await poison.PeekMessagesAsync(10)).Value).Body.ToArray());
        Assert.Equal(command.MessageId, record.Report.MessageId);
        Assert.Equal("FindStudies", record.Report.Type);
        Assert.Equal(PoisonReason.RejectedByConsumer, record.Report.Reason);
        Assert.Equal("A command on the events queue.", record.Report.Detail);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(MessageCodec.Serialize(command)), record.Raw);

        // One warning each, naming the site and the message ids, never "no registration".
        var warnings = logs.Lines.Where(l => l.StartsWith("Warning ServerlessImaging.Cloud.Runtime.RelayEventProcessor", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains($"Relay of site {site} quarantined message {quarantinedId} (LaunchRocket)", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains($"Relay message {command.MessageId} (FindStudies, site {site}) is a command on the events queue", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("names no known registration", StringComparison.Ordinal));

        Assert.Equal(1, counters["app.relay.poison_reports", "site", site]);
        Assert.Equal(1, counters["app.relay.misrouted_commands", "site", site]);
    }

    [Fact]
    public async Task A_retrieval_completion_naming_no_registration_or_an_unknown_one_is_quarantined_and_its_manifest_never_reaches_an_orchestration()
    {
        var site = RuntimeSettings.NewSiteId("lists");
        await using var runtime = await RuntimeHarness.StartAsync(new RuntimeSettings(stack.Endpoints, [site]), withWorkers: false);
        var processor = runtime.Get<RelayEventProcessor>();
        await runtime.Get<ServerlessImaging.Adapters.Staging.BlobStagedInstanceListStore>().EnsureCreatedAsync(CancellationToken.None);
        var lists = new Azure.Storage.Blobs.BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ServerlessImaging.Contracts.ResourceNames.InstanceListsContainer);
        var manifest = new RetrievalCompleted("1.2.826.0.1.9", [new StagedInstance("1.2.826.0.1.9.1", "1.2.826.0.1.9.1.1", "a.dcm", 10, new string('a', 64))]);
        MessageEnvelope Envelope(string correlationId) => new("evt-" + Guid.NewGuid().ToString("N"), correlationId, "cmd-x", site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, manifest);

        // No registration named: refused before anything is kept.
        Assert.Equal(RelayEventOutcome.UnknownRegistration, await processor.ProcessAsync(site, Envelope(string.Empty), CancellationToken.None));

        // An unknown registration: the list is kept under that id (content-addressed, expired by the lifecycle rule),
        // the event is refused and quarantined by the listener.
        var unknown = Scenario.NewRegistrationId();
        Assert.Equal(RelayEventOutcome.UnknownRegistration, await processor.ProcessAsync(site, Envelope(unknown), CancellationToken.None));
        var kept = new List<string>();
        await foreach (var blob in lists.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = unknown + "/" }))
        {
            kept.Add(blob.Name);
        }

        Assert.Single(kept);
        Assert.NotNull(RelayEventOutcomes.QuarantineReason(RelayEventOutcome.UnknownRegistration));
    }

    [Fact]
    public void Only_unknown_registrations_commands_and_foreign_site_messages_are_quarantined()
    {
        Assert.Equal("No registration with this correlation id.", RelayEventOutcomes.QuarantineReason(RelayEventOutcome.UnknownRegistration));
        Assert.Equal("A command on the events queue.", RelayEventOutcomes.QuarantineReason(RelayEventOutcome.MisroutedCommand));
        Assert.Equal("Claims a site other than the one whose events queue it was read from.", RelayEventOutcomes.QuarantineReason(RelayEventOutcome.ForeignSite));
        Assert.All(
            [RelayEventOutcome.Handled, RelayEventOutcome.NotConsumed, RelayEventOutcome.HeartbeatRecorded, RelayEventOutcome.RelayPoisonReported],
            outcome => Assert.Null(RelayEventOutcomes.QuarantineReason(outcome)));
    }

    [Fact]
    public void Only_a_CommandFailed_with_the_reserved_correlation_id_is_an_unsolicited_poison_report()
    {
        MessageEnvelope Envelope(string correlationId, RelayMessage body) => new("m", correlationId, null, "s1", DateTimeOffset.UtcNow, 1, body);
        var failed = new CommandFailed("Unknown", FailureReason.InvalidCommand, "x");

        Assert.True(RelayPoisonReports.IsUnsolicited(Envelope("poison", failed)));
        Assert.False(RelayPoisonReports.IsUnsolicited(Envelope("reg-1", failed)));
        Assert.False(RelayPoisonReports.IsUnsolicited(Envelope("poison", new StudiesFound([]))));
        Assert.False(RelayPoisonReports.IsUnsolicited(Envelope("POISON", failed)));
        Assert.True(MessageTypes.IsCommand("RetrieveStudy"));
        Assert.False(MessageTypes.IsCommand("CommandFailed"));
        Assert.False(MessageTypes.IsCommand("LaunchRocket"));
        Assert.False(MessageTypes.IsCommand(null));
    }
}
