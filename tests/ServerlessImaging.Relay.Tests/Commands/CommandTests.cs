using System.Text;
using Azure.Storage.Queues;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Relay.Hosting;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Commands;

[Collection(LocalStackFixture.CollectionName)]
public sealed class CommandTests(LocalStackFixture stack)
{
    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Echo_reports_the_PACS_answering()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        await relay.StartAsync();
        var command = relay.Command(new EchoCommand());
        await relay.SendAsync(command);

        var result = await relay.AnswerAsync<EchoResult>(command);

        Assert.Equal(PacsEchoStatus.Ok, result.Status);
        Assert.NotNull(result.RoundTripMilliseconds);
    }

    [Theory]
    [InlineData("chu-nord")]
    [InlineData("ch-est")]
    public async Task FindStudies_returns_the_study_with_demographics_modalities_and_counts(string site)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, site, series: 2, instancesPerSeries: 2);
        await using var relay = new RelayUnderTest(stack, site, "Get");
        await relay.StartAsync();

        var command = relay.Command(new FindStudiesCommand(new PatientQueryKeys(study.BirthDate, study.Sex, study.FamilyName), [], null, null));
        await relay.SendAsync(command);
        var found = await relay.AnswerAsync<StudiesFound>(command);

        var ours = Assert.Single(found.Studies, s => s.StudyInstanceUid == study.StudyInstanceUid);
        Assert.Equal(study.BirthDate, ours.Patient.BirthDate);
        Assert.StartsWith(study.FamilyName + "^", ours.Patient.PatientName, StringComparison.Ordinal);
        Assert.Equal("F", ours.Patient.Sex);
        Assert.Equal(["CT", "MR"], ours.Modalities.Order(StringComparer.Ordinal));
        Assert.Equal(2, ours.NumberOfSeries);
        Assert.Equal(4, ours.NumberOfInstances);
        Assert.Equal(new DateOnly(2024, 5, 17), ours.StudyDate);
    }

    [Theory]
    [InlineData("chu-nord")]
    [InlineData("ch-est")]
    public async Task FindStudies_applies_the_modality_and_date_filters(string site)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, site, series: 1, instancesPerSeries: 1);
        await using var relay = new RelayUnderTest(stack, site, "Get");
        await relay.StartAsync();
        var keys = new PatientQueryKeys(study.BirthDate, study.Sex, study.FamilyName);

        var wrongModality = relay.Command(new FindStudiesCommand(keys, ["MR"], null, null));
        var wrongDates = relay.Command(new FindStudiesCommand(keys, [], new DateOnly(2025, 1, 1), null));
        var matching = relay.Command(new FindStudiesCommand(keys, ["CT"], new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31)));
        await relay.SendAsync(wrongModality);
        await relay.SendAsync(wrongDates);
        await relay.SendAsync(matching);

        Assert.DoesNotContain((await relay.AnswerAsync<StudiesFound>(wrongModality)).Studies, s => s.StudyInstanceUid == study.StudyInstanceUid);
        Assert.DoesNotContain((await relay.AnswerAsync<StudiesFound>(wrongDates)).Studies, s => s.StudyInstanceUid == study.StudyInstanceUid);
        Assert.Contains((await relay.AnswerAsync<StudiesFound>(matching)).Studies, s => s.StudyInstanceUid == study.StudyInstanceUid);
    }

    [Theory]
    [InlineData("chu-nord")]
    [InlineData("ch-est")]
    public async Task ListSeries_lists_each_series_with_modality_and_instance_count(string site)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, site, series: 2, instancesPerSeries: 3);
        await using var relay = new RelayUnderTest(stack, site, "Get");
        await relay.StartAsync();
        var command = relay.Command(new ListSeriesCommand(study.StudyInstanceUid));
        await relay.SendAsync(command);

        var listed = await relay.AnswerAsync<SeriesListed>(command);

        Assert.Equal(study.SeriesUids.Order(StringComparer.Ordinal), listed.Series.Select(s => s.SeriesInstanceUid).Order(StringComparer.Ordinal));
        Assert.All(listed.Series, s => Assert.Equal(3, s.NumberOfInstances));
        Assert.Equal(["CT", "MR"], listed.Series.Select(s => s.Modality!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_stopped_PACS_gives_CommandFailed_PacsUnreachable_and_a_failed_echo_without_crashing()
    {
        var port = FreePort();
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:Pacs:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await relay.StartAsync();

        var find = relay.Command(new FindStudiesCommand(new PatientQueryKeys(new DateOnly(1960, 1, 1), "F"), [], null, null));
        var echo = relay.Command(new EchoCommand());
        await relay.SendAsync(find);
        await relay.SendAsync(echo);

        Assert.Equal(FailureReason.PacsUnreachable, (await relay.AnswerAsync<CommandFailed>(find)).Reason);
        Assert.Equal(PacsEchoStatus.Failed, (await relay.AnswerAsync<EchoResult>(echo)).Status);

        // Still alive: a later command is handled too.
        var again = relay.Command(new EchoCommand());
        await relay.SendAsync(again);
        Assert.Equal(PacsEchoStatus.Failed, (await relay.AnswerAsync<EchoResult>(again)).Status);
    }

    [Theory]
    [InlineData("chu-nord", "Relay:Pacs:CallingAeTitle", "NOTKNOWN")] // Orthanc aborts an unknown calling AE
    [InlineData("ch-est", "Relay:Pacs:AeTitle", "NOSUCHPACS")]        // dcmqrscp rejects an unknown called AE
    public async Task A_wrong_AE_title_gives_CommandFailed_PacsUnreachable(string site, string setting, string value)
    {
        await using var relay = new RelayUnderTest(stack, site, "Get", tweak: s => s[setting] = value);
        await relay.StartAsync();
        var list = relay.Command(new ListSeriesCommand("2.25.1"));
        await relay.SendAsync(list);

        var failed = await relay.AnswerAsync<CommandFailed>(list);

        Assert.Equal(FailureReason.PacsUnreachable, failed.Reason);
        Assert.Equal("ListSeries", failed.FailedCommandType);
    }

    [Theory]
    [InlineData("{ not json", null, "poison")]
    [InlineData("{\"messageId\":\"bad-1\",\"type\":\"LaunchRocket\",\"correlationId\":\"reg-x\",\"siteId\":\"x\",\"sentAt\":\"2025-01-01T00:00:00Z\",\"schemaVersion\":1,\"body\":{}}", "bad-1", "poison")]
    [InlineData("{\"messageId\":\"bad-2\",\"type\":\"RetrieveStudy\",\"correlationId\":\"reg-x\",\"siteId\":\"x\",\"sentAt\":\"2025-01-01T00:00:00Z\",\"schemaVersion\":1,\"body\":{\"studyInstanceUid\":3}}", "bad-2", "reg-x")]
    public async Task Malformed_and_unknown_commands_are_quarantined_and_reported(string raw, string? messageId, string correlationId)
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var queue = new QueueClient(stack.Endpoints.Storage.ConnectionString, relay.CommandQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(new BinaryData(Encoding.UTF8.GetBytes(raw)));

        var report = await relay.WaitForEventAsync(e => e.Body is CommandFailed { Reason: FailureReason.InvalidCommand }, TimeSpan.FromSeconds(30));
        Assert.Equal(messageId, report.CausationId);
        Assert.Equal(relay.SiteId, report.SiteId);

        // A readable command is answered for its registration; anything else is an unsolicited report.
        Assert.Equal(correlationId, report.CorrelationId);
        Assert.Equal(correlationId == RelayPoisonReports.UnsolicitedCorrelationId, RelayPoisonReports.IsUnsolicited(report));
        if (messageId is not null && correlationId != RelayPoisonReports.UnsolicitedCorrelationId)
        {
            Assert.Equal(messageId + "/" + RelayPoisonReports.ReportIdSuffix, report.MessageId);
        }

        var poison = new QueueClient(stack.Endpoints.Storage.ConnectionString, PoisonQueues.For(relay.CommandQueue), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var record = PoisonRecord.Parse(Assert.Single((await poison.ReceiveMessagesAsync(5)).Value).Body.ToArray());
        Assert.Equal(raw, record.Raw);
        Assert.Equal(PoisonReason.Malformed, record.Report.Reason);

        // The relay goes on with good commands.
        var echo = relay.Command(new EchoCommand());
        await relay.SendAsync(echo);
        Assert.Equal(PacsEchoStatus.Ok, (await relay.AnswerAsync<EchoResult>(echo)).Status);
    }

    [Fact]
    public async Task An_event_on_the_command_queue_is_quarantined_as_not_a_command()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var stray = relay.Command(new EchoCommand()) with { Body = new Heartbeat("x", DateTimeOffset.UtcNow, PacsEchoStatus.Ok, null) };
        await relay.SendAsync(stray);

        var report = await relay.WaitForEventAsync(e => e.CausationId == stray.MessageId, TimeSpan.FromSeconds(30));

        var failed = Assert.IsType<CommandFailed>(report.Body);
        Assert.Equal(FailureReason.InvalidCommand, failed.Reason);
        Assert.Equal("Heartbeat", failed.FailedCommandType);
    }

    [Fact]
    public async Task A_command_for_another_site_is_refused()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var command = relay.Command(new EchoCommand(), siteId: "clinique-sud");
        await relay.SendAsync(command);

        Assert.Equal(FailureReason.InvalidCommand, (await relay.AnswerAsync<CommandFailed>(command)).Reason);
    }

    [Fact]
    public async Task A_duplicate_command_is_answered_once()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var command = relay.Command(new EchoCommand());
        await relay.SendAsync(command);
        await relay.SendAsync(command);
        await relay.AnswerAsync<EchoResult>(command);

        // A later command's answer proves the duplicate was consumed (queue order is not guaranteed, so wait for both).
        var later = relay.Command(new EchoCommand());
        await relay.SendAsync(later);
        await relay.AnswerAsync<EchoResult>(later);
        await Task.Delay(500);
        await relay.WaitForEventAsync(_ => false, TimeSpan.FromMilliseconds(500)).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Single(relay.Events, e => e.CausationId == command.MessageId);
    }

    [Fact]
    public async Task Cancel_stops_a_running_retrieval_with_CommandFailed_Cancelled()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 40);
        // Staging reached through a slow forwarder, one upload at a time: the retrieval is certainly still running when cancelled.
        await using var slowStaging = new LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(30));
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.StartAsync();
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
        var slowSas = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri;
        var retrieve = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-g/s", credential with { SasUrl = slowSas }));
        await relay.SendAsync(retrieve);
        await relay.WaitForEventAsync(e => e.CausationId == retrieve.MessageId && e.Body is RetrievalProgress { InstancesDone: > 0 } or RetrievalCompleted, TimeSpan.FromSeconds(60));

        await relay.SendAsync(relay.Command(new CancelCommand(retrieve.MessageId)));
        var answer = await relay.WaitForEventAsync(e => e.CausationId == retrieve.MessageId && e.Body is CommandFailed or RetrievalCompleted, TimeSpan.FromSeconds(60));

        Assert.Equal(FailureReason.Cancelled, Assert.IsType<CommandFailed>(answer.Body).Reason);
        Assert.InRange((await relay.StagedAsync("reg-g/s")).Count, 1, 39);
    }

    [Fact]
    public async Task A_search_is_answered_while_every_transfer_slot_is_busy()
    {
        var large = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 40);
        var searched = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 1);
        // One transfer at a time, held by a retrieval uploading through a slow forwarder.
        await using var slowStaging = new LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(30));
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s =>
        {
            s["Relay:UploadConcurrency"] = "1";
            s["Relay:MaxConcurrentCommands"] = "1";
        });
        await relay.StartAsync();
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
        var retrieve = relay.Command(relay.Retrieve(large.StudyInstanceUid, "reg-hol/s", credential with { SasUrl = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri }));
        await relay.SendAsync(retrieve);
        await relay.WaitForEventAsync(e => e.CausationId == retrieve.MessageId && e.Body is RetrievalProgress { InstancesDone: > 0 } or RetrievalCompleted, TimeSpan.FromSeconds(60));
        // A second transfer waits for the busy slot; the search must not wait behind it.
        var secondRetrieve = relay.Command(relay.Retrieve(searched.StudyInstanceUid, "reg-hol/t", relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30))));
        await relay.SendAsync(secondRetrieve);

        var find = relay.Command(new FindStudiesCommand(new PatientQueryKeys(searched.BirthDate, searched.Sex, searched.FamilyName), [], null, null));
        await relay.SendAsync(find);
        var answer = await relay.WaitForEventAsync(e => e.CausationId == find.MessageId && e.Body is StudiesFound or CommandFailed, TimeSpan.FromSeconds(60));
        var firstDone = await relay.WaitForEventAsync(e => e.CausationId == retrieve.MessageId && e.Body is RetrievalCompleted or CommandFailed, TimeSpan.FromSeconds(120));
        var secondDone = await relay.WaitForEventAsync(e => e.CausationId == secondRetrieve.MessageId && e.Body is RetrievalCompleted or CommandFailed, TimeSpan.FromSeconds(120));

        Assert.Contains(Assert.IsType<StudiesFound>(answer.Body).Studies, s => s.StudyInstanceUid == searched.StudyInstanceUid);
        Assert.IsType<RetrievalCompleted>(firstDone.Body);
        Assert.IsType<RetrievalCompleted>(secondDone.Body);
        // The relay's own send times: the search was answered while the first retrieval held the only transfer slot, so
        // before the second retrieval (queued earlier than the search) could even start.
        Assert.True(answer.SentAt < firstDone.SentAt, $"search answered at {answer.SentAt:O}, first retrieval done at {firstDone.SentAt:O}");
        Assert.True(answer.SentAt < secondDone.SentAt);
    }

    [Fact]
    public async Task Heartbeats_carry_the_version_and_the_PACS_echo_status()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:HeartbeatSeconds"] = "1");
        await relay.StartAsync();

        var first = await relay.WaitForEventAsync(e => e.Body is Heartbeat, TimeSpan.FromSeconds(20));
        var second = await relay.WaitForEventAsync(e => e.Body is Heartbeat && e.MessageId != first.MessageId, TimeSpan.FromSeconds(20));

        var beat = Assert.IsType<Heartbeat>(second.Body);
        Assert.Equal(PacsEchoStatus.Ok, beat.PacsEcho);
        Assert.False(string.IsNullOrEmpty(beat.RelayVersion));
        Assert.Equal(relay.SiteId, second.SiteId);
        Assert.True(beat.LastSeenAt > ((Heartbeat)first.Body).LastSeenAt);
    }

    [Fact]
    public async Task Check_mode_exits_0_when_the_PACS_answers_and_1_when_it_does_not()
    {
        var good = new RelayUnderTest(stack, "chu-nord", "Get");
        var down = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:Pacs:Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var broken = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:SiteId"] = "Not A Site");
        using var goodOutput = new StringWriter();
        using var downOutput = new StringWriter();
        using var brokenOutput = new StringWriter();

        Assert.Equal(0, await ConfigurationCheck.RunAsync(["--check"], goodOutput, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, good.Settings)));
        Assert.Equal(1, await ConfigurationCheck.RunAsync(["--check"], downOutput, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, down.Settings)));
        Assert.Equal(1, await ConfigurationCheck.RunAsync(["--check"], brokenOutput, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, broken.Settings)));

        Assert.Contains("pacs echo: ok", goodOutput.ToString(), StringComparison.Ordinal);
        Assert.Contains("pacs echo: FAILED", downOutput.ToString(), StringComparison.Ordinal);
        Assert.Contains("Relay:SiteId", brokenOutput.ToString(), StringComparison.Ordinal);
    }
}
