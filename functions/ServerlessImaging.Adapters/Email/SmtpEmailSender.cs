using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Email;

/// <summary>What a send call did.</summary>
public enum EmailSendOutcome
{
    /// <summary>Handed to the relay now.</summary>
    Sent,

    /// <summary>Already sent before: nothing done.</summary>
    AlreadySent,

    /// <summary>
    /// A previous attempt claimed it and never confirmed (crash between claim and confirmation): not resent,
    /// because the relay may already have accepted it; recorded as an audit failure for the 3C to check.
    /// </summary>
    Uncertain,
}

/// <summary>
/// Sends e-mails through SMTP with MailKit, at most once per Message-Id: claim in the ledger, send, confirm.
/// The outbox already dispatches each command once; the ledger covers the retry after a crash. Every send
/// (or refusal to resend) is an audit record (110106 Export).
/// </summary>
public sealed partial class SmtpEmailSender(SmtpOptions options, ISentEmailLedger ledger, IAuditTrail audit, TimeProvider time, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    /// <inheritdoc />
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken) =>
        await SendWithOutcomeAsync(message, cancellationToken).ConfigureAwait(false);

    /// <summary>Sends and says what happened.</summary>
    public async Task<EmailSendOutcome> SendWithOutcomeAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var now = time.GetUtcNow();
        if (!await ledger.TryClaimAsync(message.MessageId, now, cancellationToken).ConfigureAwait(false))
        {
            var state = await ledger.GetStateAsync(message.MessageId, cancellationToken).ConfigureAwait(false);
            var outcome = state == SentEmailState.Sent ? EmailSendOutcome.AlreadySent : EmailSendOutcome.Uncertain;
            LogNotResent(logger, message.MessageId, outcome);
            if (outcome == EmailSendOutcome.Uncertain)
            {
                await AuditAsync(message, now, "uncertain", AuditOutcomeCodes.SeriousFailure, "A previous attempt did not confirm delivery; not resent.", cancellationToken).ConfigureAwait(false);
            }

            return outcome;
        }

        using var mime = ToMime(message);
        using (var client = new SmtpClient())
        {
            var security = options.Security switch
            {
                SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(options.Host, options.Port, security, cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(options.UserName))
            {
                await client.AuthenticateAsync(options.UserName, options.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }

            await client.SendAsync(mime, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }

        await AfterRelayAcceptedAsync(message.MessageId, cancellationToken).ConfigureAwait(false);
        await ledger.MarkSentAsync(message.MessageId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await AuditAsync(message, now, "sent", AuditOutcomeCodes.Success, $"Sent to {message.To.Count} recipient(s).", cancellationToken).ConfigureAwait(false);
        LogSent(logger, message.MessageId, message.To.Count);
        return EmailSendOutcome.Sent;
    }

    /// <summary>Test seam: runs between the relay's acceptance and the ledger's confirmation (where a crash hurts most).</summary>
    internal Func<string, CancellationToken, Task> AfterRelayAcceptedAsync { get; init; } = (_, _) => Task.CompletedTask;

    private MimeMessage ToMime(EmailMessage message)
    {
        var mime = new MimeMessage { MessageId = message.MessageId, Subject = message.Subject };
        mime.From.Add(new MailboxAddress(options.Signature, options.From));
        foreach (var recipient in message.To)
        {
            mime.To.Add(new MailboxAddress(recipient.Name, recipient.Email));
        }

        mime.Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = message.TextBody };
        return mime;
    }

    private Task AuditAsync(EmailMessage message, DateTimeOffset at, string step, int outcome, string description, CancellationToken cancellationToken)
    {
        List<AuditParticipant> participants = [new("serverless-imaging", "application", true, "source")];
        participants.AddRange(message.To.Select(r => new AuditParticipant(r.Email, "recipient", false, "destination")));
        return audit.AppendAsync(
            new AuditRecord
            {
                Id = AuditRecordIds.From("email", message.MessageId, step),
                PartitionKey = AuditRecord.PartitionKeyFor(at),
                EventId = AuditEventIds.Export,
                EventType = "EmailSent",
                ActionCode = AuditActionCodes.Read,
                DateTime = at,
                Outcome = outcome,
                OutcomeDescription = description,
                AuditSource = "serverless-imaging",
                ActiveParticipants = participants,
                ParticipantObjects = [new AuditParticipantObject(2, 3, "message-id", message.MessageId)],
            },
            cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail {MessageId} sent to {RecipientCount} recipient(s)")]
    private static partial void LogSent(ILogger logger, string messageId, int recipientCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "E-mail {MessageId} not sent again: {Outcome}")]
    private static partial void LogNotResent(ILogger logger, string messageId, EmailSendOutcome outcome);
}
