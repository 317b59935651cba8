using System.Text;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Tests.Contracts;

public class MessageCodecTests
{
    private static readonly DateTimeOffset SentAt = new(2025, 3, 3, 9, 15, 30, 123, TimeSpan.FromHours(1));

    private static readonly PacsPatient Patient = new(
        "MARTIN^HELENE", "LEFEVRE", "PID-1", "CHUNORD", new DateOnly(1958, 4, 12), "F",
        [new OtherPatientId(Fixtures.ValidNir, "1.2.250.1.213.1.4.8", "INS-NIR")]);

    /// <summary>One sample of every message in the contract.</summary>
    public static TheoryData<string, RelayMessage> EveryMessage() => new()
    {
        { "Echo", new EchoCommand() },
        { "FindStudies", new FindStudiesCommand(new PatientQueryKeys(new DateOnly(1958, 4, 12), "F", "MARTIN*", null), ["CT", "MR"], new DateOnly(2024, 1, 1), new DateOnly(2025, 3, 22)) },
        { "ListSeries", new ListSeriesCommand("1.2.3.4") },
        { "RetrieveStudy", new RetrieveStudyCommand("1.2.3.4", ["1.2.3.4.5"], new StagingDestination("staging", "reg-1/1.2.3.4/"), new StagingCredential(new Uri("https://example.blob/staging?sig=abc"), SentAt.AddMinutes(30))) },
        { "Cancel", new CancelCommand("reg-1/retrieve/1.2.3.4/a1") },
        { "EchoResult", new EchoResult(PacsEchoStatus.Ok, 3.5) },
        { "StudiesFound", new StudiesFound([new FoundStudy(Patient, "1.2.3.4", new DateOnly(2025, 1, 10), "TDM THORAX", ["CT", "SR"], 3, 250)]) },
        { "SeriesListed", new SeriesListed("1.2.3.4", [new FoundSeries("1.2.3.4.5", "CT", 2, "AXIAL", 120)]) },
        { "RetrievalProgress", new RetrievalProgress("1.2.3.4", 40, 120, 20_971_520, [new StagedInstance("1.2.3.4.1", "1.2.3.4.1.7", "reg-1/1.2.3.4/1.2.3.4.1.7.dcm", 524_288, new string('a', 64))]) },
        { "RetrievalCompleted", new RetrievalCompleted("1.2.3.4", [new StagedInstance("1.2.3.4.5", "1.2.3.4.5.6", "reg-1/1.2.3.4/1.dcm", 524_288, new string('0', 64))], "CHUNORD", "SI_RELAY") },
        { "CommandFailed", new CommandFailed("RetrieveStudy", FailureReason.StudyNotFound, "C-MOVE returned 0xA801.") },
        { "Heartbeat", new Heartbeat("1.0.0", SentAt, PacsEchoStatus.Failed, SentAt.AddMinutes(-1)) },
        { "DeliverStudy", new DeliverStudyCommand("1.2.3.4", new DeliveryDestination("RCPPACS", "pacs.example", 104), [], 3, new DicomServiceSource(new Uri("https://app.example/delivery-source/")), new DicomServiceCredential("token", SentAt.AddMinutes(30))) },
        { "DeliveryProgress", new DeliveryProgress("1.2.3.4", 1, 3, 1024) },
        { "DeliveryCompleted", new DeliveryCompleted("1.2.3.4", 3, 2, 1, 4096, new Uri("https://app.example/delivery-source/"), "SI_RELAY", new DeliveryDestination("RCPPACS", "pacs.example", 104)) },
        { "DeliveryFailed", new DeliveryFailed("1.2.3.4", DeliveryFailureReason.DestinationUnreachable, true, "No association.", 1, 3) },
    };

    [Theory]
    [MemberData(nameof(EveryMessage))]
    public void Every_message_round_trips_through_json(string expectedType, RelayMessage body)
    {
        var envelope = new MessageEnvelope("msg-1", "reg-1", expectedType.StartsWith("Echo", StringComparison.Ordinal) ? null : "cmd-1", "chu-nord", SentAt, MessageCodec.CurrentSchemaVersion, body);

        var json = MessageCodec.Serialize(envelope);
        var back = MessageCodec.Deserialize(json);

        Assert.Equal(expectedType, back.Type);
        Assert.Equal(body.GetType(), back.Body.GetType());
        Assert.Equal(envelope with { Body = back.Body }, back); // Envelope fields exactly.
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(MessageCodec.Serialize(back))); // Body deeply.
    }

    [Fact]
    public void Every_contract_type_has_a_sample_in_the_round_trip_test()
    {
        var sampled = EveryMessage().Select(row => (string)row[0]).Order(StringComparer.Ordinal);
        Assert.Equal(MessageTypes.Names.Order(StringComparer.Ordinal), sampled);
    }

    [Fact]
    public void A_retrieval_completion_without_AE_titles_from_an_older_relay_is_still_read()
    {
        const string json = """{"messageId":"m","type":"RetrievalCompleted","correlationId":"reg-1","causationId":"cmd-1","siteId":"chu-nord","sentAt":"2025-03-03T09:00:00+00:00","schemaVersion":1,"body":{"studyInstanceUid":"1.2.3","manifest":[]}}""";
        var completed = Assert.IsType<RetrievalCompleted>(MessageCodec.Deserialize(Encoding.UTF8.GetBytes(json)).Body);
        Assert.Equal(("1.2.3", null, null), (completed.StudyInstanceUid, completed.SourceAeTitle, completed.DestinationAeTitle));
    }

    [Fact]
    public void A_progress_event_without_a_staged_list_from_an_older_relay_is_still_read()
    {
        const string json = """{"messageId":"m","type":"RetrievalProgress","correlationId":"reg-1","causationId":"cmd-1","siteId":"chu-nord","sentAt":"2025-03-03T09:00:00+00:00","schemaVersion":1,"body":{"studyInstanceUid":"1.2.3","instancesDone":4,"instancesTotal":9,"bytesDone":1024}}""";
        var progress = Assert.IsType<RetrievalProgress>(MessageCodec.Deserialize(Encoding.UTF8.GetBytes(json)).Body);
        Assert.Equal(("1.2.3", 4, 9, 1024L, (IReadOnlyList<StagedInstance>?)null), (progress.StudyInstanceUid, progress.InstancesDone, progress.InstancesTotal, progress.BytesDone, progress.Staged));
    }

    [Fact]
    public void Wire_form_names_the_type_and_uses_camel_case_and_string_enums()
    {
        var envelope = new MessageEnvelope("msg-1", "reg-1", "cmd-1", "chu-nord", SentAt, 1, new CommandFailed("FindStudies", FailureReason.PacsUnreachable, "no association"));
        var json = Encoding.UTF8.GetString(MessageCodec.Serialize(envelope));

        Assert.Contains("\"type\":\"CommandFailed\"", json, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"PacsUnreachable\"", json, StringComparison.Ordinal);
        Assert.Contains("\"causationId\":\"cmd-1\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_type_is_a_typed_error()
    {
        var json = """{"messageId":"m","type":"LaunchMissiles","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{}}""";
        var error = Assert.Throws<MessageContractException>(() => MessageCodec.Deserialize(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(MessageContractError.UnknownType, error.Error);
        Assert.Contains("LaunchMissiles", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", MessageContractError.Malformed)]
    [InlineData("[1,2]", MessageContractError.Malformed)]
    [InlineData("""{"type":"Echo","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{}}""", MessageContractError.MissingField)]
    [InlineData("""{"messageId":"m","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{}}""", MessageContractError.MissingField)]
    [InlineData("""{"messageId":"m","type":"Echo","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1}""", MessageContractError.MissingField)]
    [InlineData("""{"messageId":"m","type":"Echo","correlationId":"c","siteId":"s","sentAt":"yesterday","schemaVersion":1,"body":{}}""", MessageContractError.Malformed)]
    [InlineData("""{"messageId":"m","type":"Echo","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":2,"body":{}}""", MessageContractError.UnsupportedSchemaVersion)]
    [InlineData("""{"messageId":"m","type":"Echo","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":0,"body":{}}""", MessageContractError.UnsupportedSchemaVersion)]
    [InlineData("""{"messageId":"m","type":"RetrievalProgress","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{"studyInstanceUid":"1.2","instancesDone":"many"}}""", MessageContractError.Malformed)]
    [InlineData("""{"messageId":"m","type":"ListSeries","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{}}""", MessageContractError.Malformed)]
    [InlineData("""{"messageId":"m","type":"CommandFailed","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{"failedCommandType":"X","reason":"Meteor","safeMessage":"x"}}""", MessageContractError.Malformed)]
    public void Bad_messages_are_typed_errors(string json, MessageContractError expected)
    {
        var error = Assert.Throws<MessageContractException>(() => MessageCodec.Deserialize(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(expected, error.Error);
    }

    [Fact]
    public void Errors_about_a_body_do_not_echo_its_values()
    {
        var json = """{"messageId":"m","type":"StudiesFound","correlationId":"c","siteId":"s","sentAt":"2025-03-03T09:00:00Z","schemaVersion":1,"body":{"studies":[{"patient":{"patientName":"DUPONT^JEAN","birthDate":"not-a-date","otherPatientIds":[]},"studyInstanceUid":"1","modalities":[]}]}}""";
        var error = Assert.Throws<MessageContractException>(() => MessageCodec.Deserialize(Encoding.UTF8.GetBytes(json)));
        Assert.DoesNotContain("DUPONT", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-date", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Patient_data_and_secrets_are_redacted_from_ToString()
    {
        var text = string.Join(
            " ",
            Patient.ToString(),
            new PatientQueryKeys(new DateOnly(1958, 4, 12), "F", "MARTIN").ToString(),
            new OtherPatientId(Fixtures.ValidNir, "1.2.250.1.213.1.4.8", null).ToString(),
            new StagingCredential(new Uri("https://example.blob/staging?sig=SECRET"), SentAt).ToString(),
            new FoundStudy(Patient, "1.2", null, null, [], null, null).ToString());

        Assert.DoesNotContain("MARTIN", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1958", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Fixtures.ValidNir, text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", text, StringComparison.Ordinal);
    }
}
