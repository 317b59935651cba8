using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Relay.Commands;

namespace ServerlessImaging.Relay.Tests.Commands;

/// <summary>Pure rules: which quarantined messages are answered as their command, and with what.</summary>
public sealed class QuarantineAnswerTests
{
    private static PoisonReport Report(PoisonReason reason, string? messageId, string? type, string? correlationId, int deliveries = 1, string detail = "d") =>
        new("relay-commands-s1", "relay-poison-s1", "t-1", messageId, type, reason, deliveries, detail, correlationId);

    [Fact]
    public void A_readable_command_delivered_too_often_is_answered_as_failed_internally_for_its_registration()
    {
        var answer = QuarantineAnswer.For(Report(PoisonReason.TooManyDeliveries, "cmd-1", "RetrieveStudy", "reg-7", deliveries: 6));

        Assert.True(answer.AnswersCommand);
        Assert.Equal("cmd-1", answer.CommandMessageId);
        Assert.Equal("reg-7", answer.CorrelationId);
        Assert.Equal(FailureReason.Internal, answer.Failure.Reason);
        Assert.Equal("RetrieveStudy", answer.Failure.FailedCommandType);
        Assert.Contains("quarantined after 6 deliveries", answer.Failure.SafeMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PoisonReason.Malformed)]
    [InlineData(PoisonReason.BodyMissing)]
    public void A_command_whose_body_cannot_be_used_is_answered_as_invalid(PoisonReason reason)
    {
        var answer = QuarantineAnswer.For(Report(reason, "cmd-2", "FindStudies", "reg-8"));

        Assert.True(answer.AnswersCommand);
        Assert.Equal("reg-8", answer.CorrelationId);
        Assert.Equal(FailureReason.InvalidCommand, answer.Failure.Reason);
    }

    [Theory]
    [InlineData(null, null, null)]                    // not JSON at all
    [InlineData("m-1", null, "reg-1")]                // no type
    [InlineData("m-1", "LaunchRocket", "reg-1")]      // not a contract type
    [InlineData("m-1", "Heartbeat", "reg-1")]         // an event, not a command
    [InlineData(null, "RetrieveStudy", "reg-1")]      // no message id to answer
    [InlineData("m-1", "RetrieveStudy", null)]        // no registration to tell
    [InlineData("m-1", "RetrieveStudy", "poison")]    // the reserved value is never a registration
    public void Anything_else_is_reported_unsolicited_with_the_reserved_correlation_id(string? messageId, string? type, string? correlationId)
    {
        var answer = QuarantineAnswer.For(Report(PoisonReason.Malformed, messageId, type, correlationId));

        Assert.False(answer.AnswersCommand);
        Assert.Equal(RelayPoisonReports.UnsolicitedCorrelationId, answer.CorrelationId);
        Assert.Equal(messageId, answer.CommandMessageId);
        Assert.Equal(type ?? "Unknown", answer.Failure.FailedCommandType);
        Assert.Contains("t-1", answer.Failure.SafeMessage, StringComparison.Ordinal);
        Assert.Contains("relay-poison-s1", answer.Failure.SafeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_detail_is_cut()
    {
        var answer = QuarantineAnswer.For(Report(PoisonReason.Malformed, "cmd-3", "Echo", "reg-9", detail: new string('x', 5000)));
        Assert.True(answer.Failure.SafeMessage.Length < 500);
    }
}
