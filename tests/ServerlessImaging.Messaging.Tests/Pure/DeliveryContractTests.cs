using System.Text;
using System.Text.Json;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Messaging.Tests.Pure;

/// <summary>The delivery command and its events on the wire (issue 17): names, shapes, round trips, secrets kept out of text.</summary>
public sealed class DeliveryContractTests
{
    private static readonly DeliveryDestination Destination = new("RCPPACS", "10.20.0.40", 104);

    private static MessageEnvelope Envelope(RelayMessage body) =>
        new("cmd-1", "reg-abc", body is RelayEvent ? "cmd-0" : null, "chu-nord", new DateTimeOffset(2026, 12, 5, 1, 0, 0, TimeSpan.Zero), MessageCodec.CurrentSchemaVersion, body);

    private static DeliverStudyCommand Command(string? token = "secret-token") => new(
        "1.2.3.4",
        Destination,
        ["1.2.3.4.1", "1.2.3.4.2"],
        2,
        new DicomServiceSource(new Uri("https://dicom.example/v2/")),
        new DicomServiceCredential(token, new DateTimeOffset(2026, 12, 5, 2, 0, 0, TimeSpan.Zero)));

    [Fact]
    public void The_wire_names_are_fixed_and_only_DeliverStudy_is_a_command()
    {
        Assert.Equal("DeliverStudy", Envelope(Command()).Type);
        Assert.True(MessageTypes.IsCommand("DeliverStudy"));
        foreach (var name in new[] { "DeliveryProgress", "DeliveryCompleted", "DeliveryFailed" })
        {
            Assert.Contains(name, MessageTypes.Names);
            Assert.False(MessageTypes.IsCommand(name));
        }
    }

    [Fact]
    public void A_delivery_command_round_trips_with_its_destination_source_and_credential()
    {
        var sent = Envelope(Command());
        var read = MessageCodec.Deserialize(MessageCodec.Serialize(sent));

        var body = Assert.IsType<DeliverStudyCommand>(read.Body);
        Assert.Equal("1.2.3.4", body.StudyInstanceUid);
        Assert.Equal(Destination, body.Destination);
        Assert.Equal(["1.2.3.4.1", "1.2.3.4.2"], body.ExpectedSopInstanceUids);
        Assert.Equal(2, body.ExpectedInstanceCount);
        Assert.Equal(new Uri("https://dicom.example/v2/"), body.Source.DicomWebBaseUrl);
        Assert.Equal("secret-token", body.Credential.BearerToken);
        Assert.Equal(sent.CorrelationId, read.CorrelationId);
    }

    [Fact]
    public void The_wire_form_uses_camel_case_fields()
    {
        using var json = JsonDocument.Parse(MessageCodec.Serialize(Envelope(Command())));
        var body = json.RootElement.GetProperty("body");
        Assert.Equal("RCPPACS", body.GetProperty("destination").GetProperty("aeTitle").GetString());
        Assert.Equal(104, body.GetProperty("destination").GetProperty("port").GetInt32());
        Assert.Equal("https://dicom.example/v2/", body.GetProperty("source").GetProperty("dicomWebBaseUrl").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("credential").GetProperty("bearerToken").ValueKind);
    }

    [Fact]
    public void The_credential_never_shows_in_text()
    {
        var command = Command("very-secret-token");
        Assert.DoesNotContain("very-secret-token", command.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-token", command.Credential.ToString(), StringComparison.Ordinal);
        Assert.Contains("none", Command(null).Credential.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Delivery_events_round_trip_and_the_failure_reason_is_a_string()
    {
        var completed = new DeliveryCompleted("1.2.3.4", 3, 2, 1, 4096, new Uri("http://127.0.0.1:8144/dicom-web/"), "SI_RELAY_NORD", Destination);
        var failed = new DeliveryFailed("1.2.3.4", DeliveryFailureReason.DestinationUnreachable, true, "No association with the destination.", 1, 3);
        var progress = new DeliveryProgress("1.2.3.4", 1, 3, 1024);

        Assert.Equal(completed, MessageCodec.Deserialize(MessageCodec.Serialize(Envelope(completed))).Body);
        Assert.Equal(progress, MessageCodec.Deserialize(MessageCodec.Serialize(Envelope(progress))).Body);
        var bytes = MessageCodec.Serialize(Envelope(failed));
        Assert.Equal(failed, MessageCodec.Deserialize(bytes).Body);
        Assert.Contains("\"reason\":\"DestinationUnreachable\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_delivery_command_without_a_destination_is_a_contract_violation()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.Serialize(Envelope(Command())));
        using var document = JsonDocument.Parse(json);
        var withoutDestination = json.Replace("\"destination\":" + document.RootElement.GetProperty("body").GetProperty("destination").GetRawText() + ",", string.Empty, StringComparison.Ordinal);
        Assert.NotEqual(json, withoutDestination);

        var error = Assert.Throws<MessageContractException>(() => MessageCodec.Deserialize(Encoding.UTF8.GetBytes(withoutDestination)));
        Assert.Equal(MessageContractError.Malformed, error.Error);
    }
}
