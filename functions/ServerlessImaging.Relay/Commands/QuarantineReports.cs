using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Relay.Diagnostics;

namespace ServerlessImaging.Relay.Commands;

/// <summary>
/// What the relay tells the cloud about a message it quarantined. A readable command (message id, correlation id and a
/// command type survive in the raw text) is answered like any failed command, so its registration moves on (next find
/// attempt, next site); anything else becomes an unsolicited report (<see cref="RelayPoisonReports"/>).
/// </summary>
/// <param name="AnswersCommand">True when <see cref="CommandMessageId"/> and <see cref="CorrelationId"/> name the quarantined command.</param>
/// <param name="CommandMessageId">Message id of the quarantined message (causation of the report), when readable.</param>
/// <param name="CorrelationId">The command's registration, or <see cref="RelayPoisonReports.UnsolicitedCorrelationId"/>.</param>
/// <param name="Failure">The event body.</param>
public sealed record QuarantineAnswer(bool AnswersCommand, string? CommandMessageId, string CorrelationId, CommandFailed Failure)
{
    private const int MaxDetail = 300;

    /// <summary>Decides the report of <paramref name="report"/> (pure).</summary>
    public static QuarantineAnswer For(PoisonReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var (reason, what) = report.Reason switch
        {
            // Delivered again and again without ever being completed: the relay died or hung on it each time.
            PoisonReason.TooManyDeliveries => (FailureReason.Internal, $"quarantined after {report.DeliveryCount} deliveries without completing"),
            PoisonReason.BodyMissing => (FailureReason.InvalidCommand, "quarantined: its offloaded body is missing"),
            PoisonReason.Malformed => (FailureReason.InvalidCommand, "quarantined: it breaks the message contract"),
            _ => (FailureReason.InvalidCommand, "quarantined: the relay cannot handle it"),
        };

        // The channel's detail names fields and limits, never values; bounded all the same.
        var detail = report.Detail.Length > MaxDetail ? report.Detail[..MaxDetail] + "…" : report.Detail;
        var readable = !string.IsNullOrEmpty(report.MessageId)
            && !string.IsNullOrEmpty(report.CorrelationId)
            && !string.Equals(report.CorrelationId, RelayPoisonReports.UnsolicitedCorrelationId, StringComparison.Ordinal)
            && MessageTypes.IsCommand(report.Type);
        var type = report.Type ?? "Unknown";
        if (readable)
        {
            return new QuarantineAnswer(true, report.MessageId, report.CorrelationId!, new CommandFailed(type, reason, $"Command {what} ({detail})."));
        }

        // Nothing to route it by: say where the original is so an operator can find it.
        return new QuarantineAnswer(false, report.MessageId, RelayPoisonReports.UnsolicitedCorrelationId,
            new CommandFailed(type, reason, $"Queue message {report.TransportMessageId} from {report.Queue} {what}, kept in {report.PoisonQueue} ({detail})."));
    }
}

/// <summary>Counts, logs and reports every message the relay's channel quarantines (<see cref="MessageChannelOptions.OnQuarantined"/>).</summary>
public sealed class QuarantineReporter(EventPublisher events, RelayMetrics metrics, ILogger<QuarantineReporter> logger)
{
    /// <summary>Reports one quarantined message to the cloud; a send failure surfaces to the channel, which logs it.</summary>
    public async Task ReportAsync(PoisonReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        metrics.Quarantined(report.Reason.ToString());
        var answer = QuarantineAnswer.For(report);
        if (answer.AnswersCommand)
        {
            logger.LogWarning("Command {MessageId} ({Type}) for {CorrelationId} quarantined into {PoisonQueue}: {Reason}; reported as failed",
                report.MessageId, report.Type, report.CorrelationId, report.PoisonQueue, report.Reason);
            await events.PublishAnswerAsync(answer.CommandMessageId!, answer.CorrelationId, answer.Failure, RelayPoisonReports.ReportIdSuffix, cancellationToken);
            return;
        }

        logger.LogWarning("Unreadable message {TransportMessageId} (message id {MessageId}) quarantined into {PoisonQueue}: {Reason}; reported unsolicited",
            report.TransportMessageId, report.MessageId, report.PoisonQueue, report.Reason);
        await events.PublishUnsolicitedAsync(answer.CorrelationId, answer.CommandMessageId, answer.Failure, cancellationToken);
    }
}
