using System.Globalization;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Email;

/// <summary>Another attempt holds the claim on a message and may still be sending it: retry later.</summary>
public sealed class EmailSendInProgressException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EmailSendInProgressException()
        : base("Another attempt is sending this e-mail; retry later.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public EmailSendInProgressException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public EmailSendInProgressException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Sends e-mails through SMTP with MailKit, at most once per Message-Id: claim in the ledger, send, confirm. The
/// e-mail activity runs at least once; the ledger covers its re-run after a crash and a second attempt
/// running at the same time (a fresh claim means "in flight": retry later). A failure before the relay could accept
/// anything gives the claim back (so a retry sends); a permanent refusal (SMTP 5xx) is reported as
/// <see cref="EmailDeliveryOutcome.Rejected"/>; an unconfirmed claim older than <see cref="SmtpOptions.ClaimLease"/>
/// is reported as <see cref="EmailDeliveryOutcome.Unconfirmed"/> and never resent. The caller records the outcome
/// in the audit trail (the sender has no registration to file it under).
/// </summary>
public sealed partial class SmtpEmailSender(SmtpOptions options, ISentEmailLedger ledger, TimeProvider time, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    /// <inheritdoc />
    public async Task<EmailDelivery> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var now = time.GetUtcNow();
        if (!await ledger.TryClaimAsync(message.MessageId, now, cancellationToken).ConfigureAwait(false))
        {
            return await NotClaimedAsync(message.MessageId, now, cancellationToken).ConfigureAwait(false);
        }

        using var mime = ToMime(message);
        var handingOver = false;
        try
        {
            using var client = new SmtpClient();
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

            handingOver = true;
            await client.SendAsync(mime, cancellationToken).ConfigureAwait(false);
            await QuitAsync(client).ConfigureAwait(false);
        }
        catch (SmtpCommandException ex)
        {
            // The relay answered a command with an error: it did not take the message.
            await ledger.ReleaseAsync(message.MessageId, CancellationToken.None).ConfigureAwait(false);
            if ((int)ex.StatusCode >= 500)
            {
                var code = "smtp_" + ((int)ex.StatusCode).ToString(CultureInfo.InvariantCulture);
                LogRejected(logger, message.MessageId, code);
                return new EmailDelivery(EmailDeliveryOutcome.Rejected, code);
            }

            throw;
        }
        catch (Exception) when (!handingOver)
        {
            // Not connected, not authenticated: nothing left this process, a retry may send.
            await ledger.ReleaseAsync(message.MessageId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await AfterRelayAcceptedAsync(message.MessageId, cancellationToken).ConfigureAwait(false);
        await ledger.MarkSentAsync(message.MessageId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        LogSent(logger, message.MessageId, message.To.Count);
        return new EmailDelivery(EmailDeliveryOutcome.Sent);
    }

    private async Task<EmailDelivery> NotClaimedAsync(string messageId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entry = await ledger.GetAsync(messageId, cancellationToken).ConfigureAwait(false);
        switch (entry.State)
        {
            case SentEmailState.Sent:
                LogNotResent(logger, messageId, EmailDeliveryOutcome.AlreadySent);
                return new EmailDelivery(EmailDeliveryOutcome.AlreadySent);
            case SentEmailState.Sending when entry.At is { } claimedAt && now - claimedAt >= options.ClaimLease:
                LogNotResent(logger, messageId, EmailDeliveryOutcome.Unconfirmed);
                return new EmailDelivery(EmailDeliveryOutcome.Unconfirmed, "delivery_unconfirmed");
            default:
                // Claimed moments ago by another attempt (or released in between): let the engine retry.
                throw new EmailSendInProgressException();
        }
    }

    // The relay has the message once DATA was answered; a failing QUIT changes nothing.
    private static async Task QuitAsync(SmtpClient client)
    {
        try
        {
            await client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SmtpProtocolException or OperationCanceledException)
        {
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail {MessageId} sent to {RecipientCount} recipient(s)")]
    private static partial void LogSent(ILogger logger, string messageId, int recipientCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "E-mail {MessageId} not sent again: {Outcome}")]
    private static partial void LogNotResent(ILogger logger, string messageId, EmailDeliveryOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "E-mail {MessageId} refused for good by the SMTP relay ({Code})")]
    private static partial void LogRejected(ILogger logger, string messageId, string code);
}
