namespace ServerlessImaging.Adapters.Email;

/// <summary>How the SMTP connection is protected (setting <c>Smtp__Security</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS (required, not opportunistic).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>No TLS: local development against maildev only.</summary>
    None,
}

/// <summary>The SMTP relay the expertise e-mails go through (settings <c>Smtp__*</c>).</summary>
public sealed class SmtpOptions
{
    /// <summary>Relay host.</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>Relay port.</summary>
    public int Port { get; set; } = 587;

    /// <summary>Transport security.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>Sender address (the 3C's secure-messaging mailbox).</summary>
    public string From { get; set; } = string.Empty;

    /// <summary>Display name of the sender and signature of the message ("3C de Chateauroux").</summary>
    public string Signature { get; set; } = "3C";

    /// <summary>Optional user name.</summary>
    public string? UserName { get; set; }

    /// <summary>Optional password (a Key Vault reference in Azure).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// How long a claim in the ledger without confirmation counts as another attempt still sending (retry later).
    /// Beyond it the claimant is taken for crashed: the e-mail is reported unconfirmed and not resent. Longer than
    /// MailKit's own timeouts (2 min per operation).
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Problems with these options; plain SMTP is refused outside Development.</summary>
    public IReadOnlyList<string> Validate(bool isDevelopment)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host))
        {
            problems.Add("Smtp__Host is required.");
        }

        if (Port is < 1 or > 65535)
        {
            problems.Add("Smtp__Port must be a TCP port.");
        }

        if (string.IsNullOrWhiteSpace(From) || !From.Contains('@', StringComparison.Ordinal))
        {
            problems.Add("Smtp__From must be an e-mail address.");
        }

        if (!Enum.IsDefined(Security))
        {
            problems.Add("Smtp__Security must be StartTls, SslOnConnect or None.");
        }
        else if (Security == SmtpSecurity.None && !isDevelopment)
        {
            problems.Add("Smtp__Security=None (no TLS) is only allowed in the Development environment.");
        }

        return problems;
    }
}
