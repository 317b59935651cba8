using System.Text;
using ServerlessImaging.Adapters.Audit.Syslog;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Atna;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>RFC 5424 message layout and RFC 5425 framing (pure).</summary>
public sealed class SyslogMessageTests
{
    private static readonly SyslogHeader Header = new("app-host-1", "serverless-imaging", "4242");

    [Theory]
    [InlineData(AuditOutcomeCodes.Success, 86)] // authpriv (10) * 8 + informational (6)
    [InlineData(AuditOutcomeCodes.MinorFailure, 85)] // + notice (5)
    [InlineData(AuditOutcomeCodes.SeriousFailure, 84)] // + warning (4)
    [InlineData(AuditOutcomeCodes.MajorFailure, 83)] // + error (3)
    public void An_audit_record_becomes_an_authpriv_message_whose_severity_follows_its_outcome(int outcome, int pri)
    {
        var record = AtnaSamples.OrchestrationRecords("reg-s").First().Record with { Outcome = outcome, RecordedAt = new DateTimeOffset(2026, 12, 5, 2, 30, 17, 123, TimeSpan.FromHours(1)).AddTicks(4560) };

        var message = SyslogMessage.ForAuditRecord(record, Header);

        var expectedHead = $"<{pri}>1 2026-12-05T01:30:17.123456Z app-host-1 serverless-imaging 4242 IHE+RFC-3881 [auditRecord@32473 id=\"{record.Id}\"] ";
        Assert.Equal(expectedHead, Encoding.ASCII.GetString(message, 0, expectedHead.Length));
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, message[expectedHead.Length..(expectedHead.Length + 3)]);
        Assert.Equal(AuditMessageXml.ToUtf8(record), message[(expectedHead.Length + 3)..]);
    }

    [Fact]
    public void Header_fields_are_printable_ascii_bounded_and_nil_when_absent()
    {
        var message = SyslogMessage.Format(10, 6, DateTimeOffset.UnixEpoch, new SyslogHeader("hôte à espaces", new string('a', 60), null), null, "x"u8);

        Assert.Equal("<86>1 1970-01-01T00:00:00.000000Z h_te___espaces " + new string('a', 48) + " - - - \uFEFFx", Encoding.UTF8.GetString(message));
    }

    [Fact]
    public void The_record_id_element_escapes_what_RFC_5424_asks_for()
    {
        Assert.Equal("[auditRecord@32473 id=\"au-0123abcd\"]", SyslogMessage.RecordIdElement("au-0123abcd"));
        Assert.Equal("[auditRecord@32473 id=\"a\\\"b\\\\c\\]d\"]", SyslogMessage.RecordIdElement("a\"b\\c]d"));
    }

    [Fact]
    public void Octet_counting_frames_count_bytes_not_characters()
    {
        var message = Encoding.UTF8.GetBytes("<86>1 - - - - - - \uFEFFétude");

        var frame = SyslogMessage.Frame(message);

        Assert.Equal(Encoding.ASCII.GetBytes($"{message.Length} "), frame[..^message.Length]);
        Assert.Equal(message, frame[^message.Length..]);
        Assert.Equal(27, message.Length); // 18 ASCII + 3 (BOM) + "étude" in 6
    }

    [Fact]
    public void Facility_and_severity_outside_RFC_5424_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyslogMessage.Format(24, 6, DateTimeOffset.UnixEpoch, Header, null, "x"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyslogMessage.Format(10, 8, DateTimeOffset.UnixEpoch, Header, null, "x"u8));
    }
}
