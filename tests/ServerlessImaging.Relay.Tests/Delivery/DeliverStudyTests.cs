using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Delivery;

/// <summary>
/// Deliveries against the real parts: the study in the stack's DICOM service (Orthanc DICOMweb), the chu-nord relay
/// in-process over Azurite queues, the meeting site's PACS (Orthanc RCPPACS) as destination, checked by image-level
/// C-FIND.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class DeliverStudyTests(LocalStackFixture stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    internal static RelayUnderTest Relay(LocalStackFixture stack, DeliveryDestination allowed, Uri? allowedSource = null, Action<Dictionary<string, string?>>? tweak = null) =>
        new(stack, "chu-nord", "Get", tweak: s =>
        {
            s["Relay:Delivery:AllowedDestinations:0:AeTitle"] = allowed.AeTitle;
            s["Relay:Delivery:AllowedDestinations:0:Host"] = allowed.Host;
            s["Relay:Delivery:AllowedDestinations:0:Port"] = allowed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Relay:Delivery:AllowedSources:0"] = (allowedSource ?? stack.Endpoints.DicomService.DicomWebBaseUrl).ToString();
            tweak?.Invoke(s);
        });

    internal static DeliveryDestination MeetingPacs(LocalStackFixture stack, int? port = null)
    {
        var pacs = stack.Endpoints.RequireMeetingPacs();
        return new DeliveryDestination(pacs.AeTitle, pacs.Host, port ?? pacs.DicomPort);
    }

    internal static DeliverStudyCommand Deliver(LocalStackFixture stack, TestStudy study, DeliveryDestination destination, Uri? source = null, string? token = null, bool listInstances = true) =>
        new(
            study.StudyInstanceUid,
            destination,
            listInstances ? [.. study.SeriesBySop.Keys] : [],
            listInstances ? null : study.SeriesBySop.Count,
            new DicomServiceSource(source ?? stack.Endpoints.DicomService.DicomWebBaseUrl),
            new DicomServiceCredential(token, DateTimeOffset.UtcNow.AddMinutes(30)));

    /// <summary>SOP instance UIDs a DICOM node holds for the study, by image-level C-FIND.</summary>
    internal static async Task<IReadOnlyList<string>> InstancesAtAsync(string host, int port, string aeTitle, string studyUid)
    {
        var found = await DcmtkScu.FindAsync(new DicomAssociation(host, port, aeTitle, "SI_TEST"), "IMAGE", [$"StudyInstanceUID={studyUid}", "SOPInstanceUID"], CancellationToken.None);
        return [.. found.Select(f => f["SOPInstanceUID"] ?? string.Empty).Order(StringComparer.Ordinal)];
    }

    internal static Task<IReadOnlyList<string>> AtMeetingPacsAsync(LocalStackFixture stack, string studyUid)
    {
        var pacs = stack.Endpoints.RequireMeetingPacs();
        return InstancesAtAsync(pacs.Host, pacs.DicomPort, pacs.AeTitle, studyUid);
    }

    internal static async Task<T> AnswerOfAsync<T>(RelayUnderTest relay, MessageEnvelope command)
        where T : RelayEvent
    {
        var answer = await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is DeliveryCompleted or DeliveryFailed or CommandFailed, Deadline);
        return answer.Body as T ?? throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}, got {answer.Body}");
    }

    [Fact]
    public async Task A_delivery_puts_exactly_the_studys_instances_into_the_meeting_pacs_and_a_second_one_sends_nothing()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 2, instancesPerSeries: 3);
        var destination = MeetingPacs(stack);
        await using var relay = Relay(stack, destination);
        await relay.StartAsync();

        var command = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(command);
        var completed = await AnswerOfAsync<DeliveryCompleted>(relay, command);

        Assert.Equal(study.StudyInstanceUid, completed.StudyInstanceUid);
        Assert.Equal((6, 6, 0), (completed.InstancesTotal, completed.InstancesSent, completed.InstancesAlreadyPresent));
        Assert.True(completed.BytesSent > 6 * 1000, $"bytes {completed.BytesSent}");
        Assert.Equal(destination, completed.Destination);
        Assert.Equal("SI_RELAY_NORD", completed.SourceAeTitle);
        Assert.Equal(stack.Endpoints.DicomService.DicomWebBaseUrl, completed.SourceDicomWebBaseUrl);
        Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), await AtMeetingPacsAsync(stack, study.StudyInstanceUid));
        Assert.False(File.Exists(relay.DeliveryJournalPath(study.StudyInstanceUid, destination)), "the journal is deleted once the completion is sent");

        // The cloud asks again (a new command, count only): the destination's C-FIND says everything is there.
        var again = relay.Command(Deliver(stack, study, destination, listInstances: false));
        await relay.SendAsync(again);
        var second = await AnswerOfAsync<DeliveryCompleted>(relay, again);
        Assert.Equal((6, 0, 6, 0L), (second.InstancesTotal, second.InstancesSent, second.InstancesAlreadyPresent, second.BytesSent));
        Assert.Equal(6, (await AtMeetingPacsAsync(stack, study.StudyInstanceUid)).Count);
    }

    [Fact]
    public async Task A_destination_or_source_outside_the_relays_allow_lists_is_refused_and_nothing_is_sent()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: 2);
        await using var relay = Relay(stack, MeetingPacs(stack));
        await relay.StartAsync();
        var chuNord = stack.Endpoints.Site("chu-nord");
        var elsewhere = new DeliveryDestination(chuNord.AeTitle, chuNord.Host, chuNord.DicomPort);

        var toElsewhere = relay.Command(Deliver(stack, study, elsewhere));
        await relay.SendAsync(toElsewhere);
        var refused = await AnswerOfAsync<DeliveryFailed>(relay, toElsewhere);

        Assert.Equal(DeliveryFailureReason.DestinationNotAllowed, refused.Reason);
        Assert.False(refused.Transient);
        Assert.Empty(await InstancesAtAsync(chuNord.Host, chuNord.DicomPort, chuNord.AeTitle, study.StudyInstanceUid));

        var fromElsewhere = relay.Command(Deliver(stack, study, MeetingPacs(stack), source: new Uri(chuNord.HttpUrl!, "dicom-web/")));
        await relay.SendAsync(fromElsewhere);
        var sourceRefused = await AnswerOfAsync<DeliveryFailed>(relay, fromElsewhere);

        Assert.Equal(DeliveryFailureReason.SourceNotAllowed, sourceRefused.Reason);
        Assert.False(sourceRefused.Transient);
        Assert.Empty(await AtMeetingPacsAsync(stack, study.StudyInstanceUid));
    }

    [Fact]
    public async Task A_destination_down_is_a_transient_failure_and_a_retried_delivery_completes_once_it_is_back()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: 4);
        var meeting = stack.Endpoints.RequireMeetingPacs();
        var port = LoopbackTcpForwarder.FreePort();
        var destination = MeetingPacs(stack, port);
        await using var relay = Relay(stack, destination);
        await relay.StartAsync();

        var first = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(first);
        var failed = await AnswerOfAsync<DeliveryFailed>(relay, first);

        Assert.Equal(DeliveryFailureReason.DestinationUnreachable, failed.Reason);
        Assert.True(failed.Transient);
        Assert.Empty(await AtMeetingPacsAsync(stack, study.StudyInstanceUid));

        await using (new LoopbackTcpForwarder(meeting.DicomPort, listenPort: port))
        {
            var retry = relay.Command(Deliver(stack, study, destination));
            await relay.SendAsync(retry);
            var completed = await AnswerOfAsync<DeliveryCompleted>(relay, retry);

            Assert.Equal(4, completed.InstancesSent);
        }

        Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), await AtMeetingPacsAsync(stack, study.StudyInstanceUid));
    }

    [Fact]
    public async Task The_read_credential_goes_as_a_bearer_token_and_a_refused_one_is_a_transient_credential_failure()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: 2);
        await using var service = new BearerCheckingProxy(stack.Endpoints.DicomService.DicomWebBaseUrl, "study-scoped-token");
        var destination = MeetingPacs(stack);
        await using var relay = Relay(stack, destination, allowedSource: service.BaseUrl);
        await relay.StartAsync();

        // A token that could not be a header value (line break, space) is refused before any request.
        var malformed = relay.Command(Deliver(stack, study, destination, source: service.BaseUrl, token: "abc\r\nX-Injected: 1"));
        await relay.SendAsync(malformed);
        Assert.Equal(DeliveryFailureReason.InvalidCommand, (await AnswerOfAsync<DeliveryFailed>(relay, malformed)).Reason);
        Assert.Empty(service.AuthorizationHeaders);

        var wrong = relay.Command(Deliver(stack, study, destination, source: service.BaseUrl, token: "stale-token"));
        await relay.SendAsync(wrong);
        var refused = await AnswerOfAsync<DeliveryFailed>(relay, wrong);

        Assert.Equal(DeliveryFailureReason.CredentialRejected, refused.Reason);
        Assert.True(refused.Transient);
        Assert.DoesNotContain("stale-token", refused.SafeMessage, StringComparison.Ordinal);
        Assert.Empty(await AtMeetingPacsAsync(stack, study.StudyInstanceUid));

        var right = relay.Command(Deliver(stack, study, destination, source: service.BaseUrl, token: "study-scoped-token"));
        await relay.SendAsync(right);
        var completed = await AnswerOfAsync<DeliveryCompleted>(relay, right);

        Assert.Equal(2, completed.InstancesSent);
        Assert.Contains("Bearer stale-token", service.AuthorizationHeaders);
        Assert.Contains("Bearer study-scoped-token", service.AuthorizationHeaders);
        Assert.DoesNotContain(null, service.AuthorizationHeaders);
        Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), await AtMeetingPacsAsync(stack, study.StudyInstanceUid));
    }

    [Fact]
    public async Task A_cancelled_delivery_answers_cancelled_and_keeps_its_journal_for_the_retry()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: 40);
        var meeting = stack.Endpoints.RequireMeetingPacs();
        await using var slow = new LoopbackTcpForwarder(meeting.DicomPort, TimeSpan.FromMilliseconds(20));
        var destination = MeetingPacs(stack, slow.Port);
        await using var relay = Relay(stack, destination, tweak: s => s["Relay:Delivery:QueryDestination"] = "false");
        await relay.StartAsync();

        var command = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(command);
        await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is DeliveryProgress { InstancesDone: > 0 }, Deadline);
        await relay.SendAsync(relay.Command(new CancelCommand(command.MessageId)) with { CorrelationId = command.CorrelationId });
        var cancelled = await AnswerOfAsync<DeliveryFailed>(relay, command);

        Assert.Equal(DeliveryFailureReason.Cancelled, cancelled.Reason);
        Assert.InRange(cancelled.InstancesDone, 1, 39);
        Assert.Equal(40, cancelled.InstancesTotal);
        Assert.True(File.Exists(relay.DeliveryJournalPath(study.StudyInstanceUid, destination)), "the journal of a cancelled delivery is what its retry resumes from");

        var retry = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(retry);
        var completed = await AnswerOfAsync<DeliveryCompleted>(relay, retry);
        Assert.Equal(40, completed.InstancesSent + completed.InstancesAlreadyPresent);
        Assert.True(completed.InstancesAlreadyPresent >= cancelled.InstancesDone, $"resumed {completed.InstancesAlreadyPresent}, done before {cancelled.InstancesDone}");
        Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), await AtMeetingPacsAsync(stack, study.StudyInstanceUid));
    }

    [Fact]
    public async Task An_instance_the_journal_records_but_the_destination_no_longer_lists_is_sent_again()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: 40);
        var meeting = stack.Endpoints.RequireMeetingPacs();
        await using var slow = new LoopbackTcpForwarder(meeting.DicomPort, TimeSpan.FromMilliseconds(20));
        var destination = MeetingPacs(stack, slow.Port);
        await using var relay = Relay(stack, destination);
        await relay.StartAsync();

        // A delivery cut short keeps its journal; then one instance it recorded disappears from the destination.
        var command = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(command);
        await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is DeliveryProgress { InstancesDone: > 1 }, Deadline);
        await relay.SendAsync(relay.Command(new CancelCommand(command.MessageId)) with { CorrelationId = command.CorrelationId });
        var cancelled = await AnswerOfAsync<DeliveryFailed>(relay, command);
        var journaled = relay.DeliveryJournalRecords(study.StudyInstanceUid, destination);
        Assert.InRange(journaled.Count, 2, 39);
        var lost = journaled.Order(StringComparer.Ordinal).First();
        await DeleteAtMeetingPacsAsync(meeting, lost);
        Assert.DoesNotContain(lost, await AtMeetingPacsAsync(stack, study.StudyInstanceUid));

        var retry = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(retry);
        var completed = await AnswerOfAsync<DeliveryCompleted>(relay, retry);

        Assert.Equal(DeliveryFailureReason.Cancelled, cancelled.Reason);
        Assert.Equal(40, completed.InstancesSent + completed.InstancesAlreadyPresent);
        // The destination may hold a store acknowledged after the cancel and not journaled; the lost one was sent again.
        Assert.InRange(completed.InstancesAlreadyPresent, journaled.Count - 1, 39);
        var held = await AtMeetingPacsAsync(stack, study.StudyInstanceUid);
        Assert.Contains(lost, held);
        Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), held);
    }

    // Orthanc's REST API (the stand-in's, loopback, no authentication): find the instance by its UID and delete it.
    private static async Task DeleteAtMeetingPacsAsync(SitePacs pacs, string sopInstanceUid)
    {
        using var http = new HttpClient { BaseAddress = pacs.HttpUrl ?? throw new InvalidOperationException("The meeting PACS has no REST endpoint.") };
        using var lookup = await http.PostAsync(new Uri("tools/lookup", UriKind.Relative), new StringContent(sopInstanceUid));
        lookup.EnsureSuccessStatusCode();
        using var found = System.Text.Json.JsonDocument.Parse(await lookup.Content.ReadAsStringAsync());
        var id = found.RootElement.EnumerateArray().Single(e => e.GetProperty("Type").GetString() == "Instance").GetProperty("ID").GetString();
        using var deleted = await http.DeleteAsync(new Uri("instances/" + id, UriKind.Relative));
        deleted.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Check_mode_prints_where_the_relay_may_deliver()
    {
        var delivering = Relay(stack, MeetingPacs(stack));
        var plain = new RelayUnderTest(stack, "chu-nord", "Get");
        using var deliveringOutput = new StringWriter();
        using var plainOutput = new StringWriter();

        Assert.Equal(0, await Hosting.ConfigurationCheck.RunAsync(["--check"], deliveringOutput, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, delivering.Settings)));
        Assert.Equal(0, await Hosting.ConfigurationCheck.RunAsync(["--check"], plainOutput, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, plain.Settings)));

        var meeting = stack.Endpoints.RequireMeetingPacs();
        Assert.Contains($"delivery: to RCPPACS@{meeting.Host}:{meeting.DicomPort} from {stack.Endpoints.DicomService.DicomWebBaseUrl}", deliveringOutput.ToString(), StringComparison.Ordinal);
        Assert.Contains("delivery: off", plainOutput.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_study_in_several_transfer_syntaxes_arrives_in_each_instances_own_syntax()
    {
        // One instance each: Explicit VR LE (proposed from the start), then JPEG 2000, RLE and Implicit VR LE, each met
        // only while streaming and so each re-opening the association with its context added.
        var corpus = Testing.Dcmtk.DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath);
        var work = Directory.CreateTempSubdirectory("si-delivery-syntaxes-").FullName;
        var studyUid = Testing.Isolation.UniqueNames.DicomUid();
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CT_small.dcm"] = "1.2.840.10008.1.2.1",
            ["JPEG2000.dcm"] = "1.2.840.10008.1.2.4.91",
            ["SC_rgb_rle.dcm"] = "1.2.840.10008.1.2.5",
            ["MR_small_implicit.dcm"] = "1.2.840.10008.1.2",
        };
        var syntaxBySop = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, syntax) in files)
        {
            var copy = await Testing.Dcmtk.DicomTestFiles.CopyWithNewIdentityAsync(Path.Combine(corpus, name), work, "SYNTAX^TEST", "PIDSYNTAX", CancellationToken.None, "StudyInstanceUID=" + studyUid);
            syntaxBySop[copy.SopInstanceUid] = syntax;
        }

        // STOW-RS keeps each file's syntax (storescu would have to be told about every compressed one).
        using (var service = Dicom.Web.DicomWebClient.Create(new Dicom.Web.DicomWebClientOptions { BaseAddress = stack.Endpoints.DicomService.DicomWebBaseUrl }))
        {
            var stored = await service.StoreFilesAsync(Directory.GetFiles(work));
            Assert.Equal(Dicom.Web.Stow.StowOutcome.Success, stored.Outcome);
        }

        var study = new TestStudy(studyUid, syntaxBySop.Keys.ToDictionary(k => k, _ => string.Empty, StringComparer.Ordinal), new Dictionary<string, string>(), "SYNTAX", default, "F");
        var destination = MeetingPacs(stack);
        await using var relay = Relay(stack, destination);
        await relay.StartAsync();

        var command = relay.Command(Deliver(stack, study, destination));
        await relay.SendAsync(command);
        var completed = await AnswerOfAsync<DeliveryCompleted>(relay, command);

        Assert.Equal(4, completed.InstancesSent);
        Assert.Equal(syntaxBySop.Keys.Order(StringComparer.Ordinal), await AtMeetingPacsAsync(stack, studyUid));
        using var orthanc = new HttpClient { BaseAddress = stack.Endpoints.RequireMeetingPacs().HttpUrl };
        foreach (var (sop, syntax) in syntaxBySop)
        {
            using var lookup = await orthanc.PostAsync(new Uri("tools/lookup", UriKind.Relative), new StringContent(sop));
            using var found = System.Text.Json.JsonDocument.Parse(await lookup.Content.ReadAsStringAsync());
            var id = found.RootElement.EnumerateArray().Single(e => e.GetProperty("Type").GetString() == "Instance").GetProperty("ID").GetString();
            Assert.Equal(syntax, await orthanc.GetStringAsync(new Uri($"instances/{id}/metadata/TransferSyntax", UriKind.Relative)));
        }

        Directory.Delete(work, recursive: true);
    }
}
