using System.Globalization;
using System.Text;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Atna;

namespace ServerlessImaging.Adapters.Audit.Syslog;

/// <summary>The header fields of our syslog messages that do not change from one message to the next.</summary>
/// <param name="HostName">HOSTNAME: this machine's name or address (printable US-ASCII, at most 255).</param>
/// <param name="AppName">APP-NAME (at most 48).</param>
/// <param name="ProcId">PROCID (at most 128), or null for the process id.</param>
public sealed record SyslogHeader(string HostName, string AppName = "serverless-imaging", string? ProcId = null)
{
    /// <summary>This machine and process.</summary>
    public static SyslogHeader ForThisProcess(string appName = "serverless-imaging") =>
        new(Environment.MachineName, appName, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// RFC 5424 syslog messages: <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG</c>, with a UTF-8 MSG announced
/// by its byte order mark (RFC 5424 6.4). Pure.
/// </summary>
public static class SyslogMessage
{
    /// <summary>Facility 10, authpriv (security/authorization messages, private): where IHE ATNA audit messages go.</summary>
    public const int AuthPrivFacility = 10;

    /// <summary>The MSGID IHE ATNA (ITI-20) gives audit messages carried over syslog.</summary>
    public const string AtnaMessageId = "IHE+RFC-3881";

    /// <summary>
    /// SD-ID of the element naming the audit record a message carries (<c>[auditRecord@32473 id="au-…"]</c>), so a collector
    /// can recognise the rare resend after a failed export. RFC 5424 wants <c>name@</c> a private enterprise number for
    /// SD-IDs of one's own; 32473 is the number RFC 5612 reserves for examples and documentation, as we have none registered.
    /// </summary>
    public const string AuditRecordSdId = "auditRecord@32473";

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The severity of an audit event by its EventOutcomeIndicator: success informational, failures notice / warning / error.</summary>
    public static int SeverityFor(int outcome) => outcome switch
    {
        <= AuditOutcomeCodes.Success => 6, // informational
        <= AuditOutcomeCodes.MinorFailure => 5, // notice
        <= AuditOutcomeCodes.SeriousFailure => 4, // warning
        _ => 3, // error
    };

    /// <summary>
    /// An audit record as an IHE ATNA syslog message: its PS3.15 Audit Message as MSG, its id as structured data
    /// (<see cref="AuditRecordSdId"/>), stamped with the time the record was written, so the same record always gives the
    /// same bytes (a collector can recognise a resend).
    /// </summary>
    public static byte[] ForAuditRecord(AuditRecord record, SyslogHeader header, AuditMessageSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Format(AuthPrivFacility, SeverityFor(record.Outcome), record.RecordedAt, header, AtnaMessageId, AuditMessageXml.ToUtf8(record, settings), RecordIdElement(record.Id));
    }

    /// <summary>The SD-ELEMENT <c>[auditRecord@32473 id="…"]</c>, the value escaped as RFC 5424 6.3.3 asks.</summary>
    public static string RecordIdElement(string recordId)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        var value = new StringBuilder(recordId.Length + 8);
        foreach (var c in recordId)
        {
            if (c is '"' or '\\' or ']')
            {
                value.Append('\\');
            }

            value.Append(c);
        }

        return $"[{AuditRecordSdId} id=\"{value}\"]";
    }

    /// <summary>
    /// One RFC 5424 message (SYSLOG-MSG) as bytes; <paramref name="utf8Message"/> is sent after a byte order mark;
    /// <paramref name="structuredData"/> is written as given (one or more SD-ELEMENTs), NILVALUE when null.
    /// </summary>
    public static byte[] Format(int facility, int severity, DateTimeOffset timestamp, SyslogHeader header, string? messageId, ReadOnlySpan<byte> utf8Message, string? structuredData = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentOutOfRangeException.ThrowIfNegative(facility);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(facility, 23);
        ArgumentOutOfRangeException.ThrowIfNegative(severity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(severity, 7);

        var head = string.Create(CultureInfo.InvariantCulture, $"<{(facility * 8) + severity}>1 {Timestamp(timestamp)} {Field(header.HostName, 255)} {Field(header.AppName, 48)} {Field(header.ProcId, 128)} {Field(messageId, 32)} {(string.IsNullOrEmpty(structuredData) ? "-" : structuredData)} ");
        var headBytes = Encoding.UTF8.GetBytes(head); // ASCII but for SD-PARAM values, which RFC 5424 allows in UTF-8
        var message = new byte[headBytes.Length + Utf8Bom.Length + utf8Message.Length];
        headBytes.CopyTo(message, 0);
        Utf8Bom.CopyTo(message, headBytes.Length);
        utf8Message.CopyTo(message.AsSpan(headBytes.Length + Utf8Bom.Length));
        return message;
    }

    /// <summary>RFC 5425 octet-counting framing: <c>MSG-LEN SP SYSLOG-MSG</c>.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> syslogMessage)
    {
        var prefix = Encoding.ASCII.GetBytes(syslogMessage.Length.ToString(CultureInfo.InvariantCulture) + " ");
        var frame = new byte[prefix.Length + syslogMessage.Length];
        prefix.CopyTo(frame, 0);
        syslogMessage.CopyTo(frame.AsSpan(prefix.Length));
        return frame;
    }

    /// <summary>RFC 5424 TIMESTAMP: RFC 3339, UTC, microseconds (the most the format allows).</summary>
    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    // Header fields are printable US-ASCII without spaces, bounded; "-" (NILVALUE) when absent.
    private static string Field(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var field = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var c in value)
        {
            if (field.Length == maxLength)
            {
                break;
            }

            field.Append(c is >= '!' and <= '~' ? c : '_');
        }

        return field.ToString();
    }
}
