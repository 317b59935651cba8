using System.Globalization;
using System.Net;
using System.Text;
using System.Xml;

namespace ServerlessImaging.Orchestration.Audit.Atna;

/// <summary>How the audit messages name their source.</summary>
/// <param name="EnterpriseSiteId">AuditEnterpriseSiteID (the hosting organisation), when configured.</param>
public sealed record AuditMessageSettings(string? EnterpriseSiteId = null);

/// <summary>
/// Writes an <see cref="AuditRecord"/> as a DICOM PS3.15 A.5 Audit Message (the XML that IHE ATNA sends to a SIEM), valid
/// against the standard's schema (<c>dicom-audit-message.rng</c> beside this file). Pure: no I/O, culture-invariant, UTC.
/// The output is one line (new lines in values are written as character references) so a line-oriented collector keeps
/// one message per line.
/// </summary>
public static class AuditMessageXml
{
    /// <summary>codeSystemName of our own codes (event types, application roles, identifier kinds): HL7's "99" prefix for local code systems.</summary>
    public const string LocalCodeSystem = "99ServerlessImaging";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly XmlWriterSettings WriterSettings = new()
    {
        Encoding = Utf8NoBom,
        Indent = false,
        NewLineHandling = NewLineHandling.Entitize,
        OmitXmlDeclaration = false,
        CloseOutput = false,
    };

    /// <summary>The message as UTF-8 bytes (with an XML declaration, without a byte order mark).</summary>
    public static byte[] ToUtf8(AuditRecord record, AuditMessageSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, WriterSettings))
        {
            Write(writer, record, settings ?? new AuditMessageSettings());
        }

        return buffer.ToArray();
    }

    /// <summary>The message as a string (the same text as <see cref="ToUtf8"/>).</summary>
    public static string ToXml(AuditRecord record, AuditMessageSettings? settings = null) => Utf8NoBom.GetString(ToUtf8(record, settings));

    private static void Write(XmlWriter xml, AuditRecord record, AuditMessageSettings settings)
    {
        xml.WriteStartDocument();
        xml.WriteStartElement("AuditMessage");

        // EventIdentification: the elements' order is fixed by the schema (EventID, EventTypeCode, EventOutcomeDescription).
        xml.WriteStartElement("EventIdentification");
        if (record.ActionCode is "C" or "R" or "U" or "D" or "E")
        {
            xml.WriteAttributeString("EventActionCode", record.ActionCode);
        }

        xml.WriteAttributeString("EventDateTime", UtcDateTime(record.DateTime));
        xml.WriteAttributeString("EventOutcomeIndicator", OutcomeIndicator(record.Outcome).ToString(CultureInfo.InvariantCulture));
        WriteCode(xml, "EventID", record.EventId.Code, record.EventId.CodingScheme, record.EventId.Display);
        if (record.EventType.Length > 0)
        {
            WriteCode(xml, "EventTypeCode", record.EventType, LocalCodeSystem, record.EventType);
        }

        if (record.OutcomeDescription is { Length: > 0 } outcome)
        {
            WriteOneLineElement(xml, "EventOutcomeDescription", outcome);
        }

        xml.WriteEndElement();

        var participants = record.ActiveParticipants.Count > 0
            ? record.ActiveParticipants

            // The schema wants at least one active participant: the application that wrote the record stands in.
            : [new AuditParticipant(record.AuditSource, "application", true, "application")];
        foreach (var participant in participants)
        {
            WriteParticipant(xml, participant);
        }

        xml.WriteStartElement("AuditSourceIdentification");
        if (settings.EnterpriseSiteId is { Length: > 0 } site)
        {
            xml.WriteAttributeString("AuditEnterpriseSiteID", Clean(site));
        }

        xml.WriteAttributeString("AuditSourceID", Clean(record.AuditSource));
        xml.WriteStartElement("AuditSourceTypeCode");
        xml.WriteAttributeString("csd-code", "4"); // application server process
        xml.WriteEndElement();
        xml.WriteEndElement();

        foreach (var participantObject in record.ParticipantObjects)
        {
            WriteObject(xml, participantObject);
        }

        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void WriteParticipant(XmlWriter xml, AuditParticipant participant)
    {
        xml.WriteStartElement("ActiveParticipant");
        xml.WriteAttributeString("UserID", Clean(participant.UserId));

        // IHE's convention for DICOM nodes: the AE title also as AlternativeUserID "AETITLES=…".
        if (participant.Kind == "ae")
        {
            xml.WriteAttributeString("AlternativeUserID", "AETITLES=" + Clean(participant.UserId));
        }

        xml.WriteAttributeString("UserIsRequestor", participant.IsRequestor ? "true" : "false");
        if (participant.NetworkAccessPoint is { Length: > 0 } accessPoint)
        {
            xml.WriteAttributeString("NetworkAccessPointID", Clean(accessPoint));
            xml.WriteAttributeString("NetworkAccessPointTypeCode", IPAddress.TryParse(accessPoint, out _) ? "2" : "1");
        }

        // A user's role is the list of its app roles; systems have one of application/source/destination.
        foreach (var role in (participant.Role ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (role)
            {
                case "source":
                    WriteCode(xml, "RoleIDCode", "110153", "DCM", "Source Role ID");
                    break;
                case "destination":
                    WriteCode(xml, "RoleIDCode", "110152", "DCM", "Destination Role ID");
                    break;
                case "application":
                    WriteCode(xml, "RoleIDCode", "110150", "DCM", "Application");
                    break;
                default:
                    WriteCode(xml, "RoleIDCode", role, LocalCodeSystem, role);
                    break;
            }
        }

        xml.WriteEndElement();
    }

    private static void WriteObject(XmlWriter xml, AuditParticipantObject participantObject)
    {
        xml.WriteStartElement("ParticipantObjectIdentification");
        xml.WriteAttributeString("ParticipantObjectID", Clean(participantObject.Id));
        if (participantObject.TypeCode is >= 1 and <= 4)
        {
            xml.WriteAttributeString("ParticipantObjectTypeCode", participantObject.TypeCode.ToString(CultureInfo.InvariantCulture));
        }

        if (participantObject.RoleCode is >= 1 and <= 26)
        {
            xml.WriteAttributeString("ParticipantObjectTypeCodeRole", participantObject.RoleCode.ToString(CultureInfo.InvariantCulture));
        }

        var (code, system, meaning) = IdTypeCode(participantObject.IdTypeCode);
        WriteCode(xml, "ParticipantObjectIDTypeCode", code, system, meaning);

        // The schema requires a name or a query. A query object carries its filter (never names) as the query; the
        // others carry their own identifier as name: we hold no names, and a patient is known here only by pseudonym.
        var isQuery = participantObject.RoleCode == 24;
        if (isQuery)
        {
            xml.WriteElementString("ParticipantObjectQuery", Base64(participantObject.Detail ?? participantObject.Id));
        }
        else
        {
            WriteOneLineElement(xml, "ParticipantObjectName", participantObject.Id);
            if (participantObject.Detail is { Length: > 0 } detail)
            {
                xml.WriteStartElement("ParticipantObjectDetail");
                xml.WriteAttributeString("type", "Detail");
                xml.WriteAttributeString("value", Base64(detail));
                xml.WriteEndElement();
            }
        }

        xml.WriteEndElement();
    }

    // XmlWriter keeps a line feed in text as is (it entitizes it only in attributes): write it as a character reference so the
    // message stays on one line, and reads back the same.
    private static void WriteOneLineElement(XmlWriter xml, string element, string text)
    {
        xml.WriteStartElement(element);
        var lines = Clean(text).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                xml.WriteCharEntity('\n');
            }

            xml.WriteString(lines[i]);
        }

        xml.WriteEndElement();
    }

    private static (string Code, string System, string Meaning) IdTypeCode(string idTypeCode) => idTypeCode switch
    {
        "2" => ("2", "RFC-3881", "Patient Number"),
        "110180" => ("110180", "DCM", "Study Instance UID"),
        "110181" => ("110181", "DCM", "SOP Class UID"),
        "110182" => ("110182", "DCM", "Node ID"),
        _ => (idTypeCode, LocalCodeSystem, idTypeCode),
    };

    private static void WriteCode(XmlWriter xml, string element, string code, string system, string meaning)
    {
        xml.WriteStartElement(element);
        xml.WriteAttributeString("csd-code", Clean(code));
        xml.WriteAttributeString("codeSystemName", Clean(system));
        xml.WriteAttributeString("originalText", Clean(meaning));
        xml.WriteEndElement();
    }

    // The schema's four values; anything else is reported as the next worse one rather than dropped.
    private static int OutcomeIndicator(int outcome) => outcome switch
    {
        <= 0 => 0,
        <= 4 => 4,
        <= 8 => 8,
        _ => 12,
    };

    /// <summary>xsd:dateTime in UTC with milliseconds, e.g. 2026-12-05T01:30:17.123Z.</summary>
    public static string UtcDateTime(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    // XML 1.0 cannot carry most control characters, even escaped: they become U+FFFD rather than fail the whole message.
    private static string Clean(string text)
    {
        var firstBad = -1;
        for (var i = 0; i < text.Length; i++)
        {
            if (!IsXmlChar(text, i, out var width))
            {
                firstBad = i;
                break;
            }

            i += width - 1;
        }

        if (firstBad < 0)
        {
            return text;
        }

        var cleaned = new StringBuilder(text.Length);
        cleaned.Append(text, 0, firstBad);
        for (var i = firstBad; i < text.Length; i++)
        {
            if (IsXmlChar(text, i, out var width))
            {
                cleaned.Append(text, i, width);
                i += width - 1;
            }
            else
            {
                cleaned.Append('\uFFFD');
            }
        }

        return cleaned.ToString();
    }

    private static bool IsXmlChar(string text, int index, out int width)
    {
        width = 1;
        var c = text[index];
        if (char.IsHighSurrogate(c))
        {
            if (index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            {
                width = 2;
                return true;
            }

            return false;
        }

        return XmlConvert.IsXmlChar(c);
    }
}
