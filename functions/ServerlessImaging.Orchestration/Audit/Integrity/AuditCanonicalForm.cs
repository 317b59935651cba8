using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessImaging.Orchestration.Audit.Integrity;

/// <summary>
/// The byte strings the trail hashes. Each is UTF-8 text: a tag line (<c>sirec1</c>, <c>siblk1</c>, <c>sianc1</c>),
/// then one line per field in a fixed order, <c>name=LENGTH:VALUE\n</c> where LENGTH is the value's UTF-8 byte count
/// (so no value can be mistaken for a separator and no escaping is needed), <c>name=-\n</c> for a null, lists as
/// <c>name#=COUNT\n</c> followed by their items' fields. Times are UTC <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>, numbers
/// invariant decimal, booleans <c>true</c>/<c>false</c>. A different JSON layout of the same record in the database
/// hashes the same; any changed value does not.
/// </summary>
public static class AuditCanonicalForm
{
    /// <summary>Name of the hash algorithm, stored beside hashes where a reader needs it.</summary>
    public const string Algorithm = "SHA-256";

    /// <summary>
    /// Canonical form of a record: every field except <see cref="AuditRecord.Hash"/> (it is the result), <see cref="AuditRecord.PreviousHash"/>
    /// included; <see cref="AuditRecord.Stream"/> only when set (a <c>stream</c> line after <c>sequence</c>).
    /// </summary>
    public static byte[] Of(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = new Writer("sirec1");
        text.Field("id", record.Id);
        text.Field("partitionKey", record.PartitionKey);
        text.Field("eventId.code", record.EventId.Code);
        text.Field("eventId.display", record.EventId.Display);
        text.Field("eventId.codingScheme", record.EventId.CodingScheme);
        text.Field("eventType", record.EventType);
        text.Field("actionCode", record.ActionCode);
        text.Field("dateTime", Time(record.DateTime));
        text.Field("recordedAt", Time(record.RecordedAt));
        text.Field("sequence", record.Sequence?.ToString(CultureInfo.InvariantCulture));
        if (record.Stream is not null)
        {
            // Only when set: the records of a registration's own trail (and every record sealed before streams existed)
            // keep the hash they were sealed with.
            text.Field("stream", record.Stream);
        }

        text.Field("outcome", record.Outcome.ToString(CultureInfo.InvariantCulture));
        text.Field("outcomeDescription", record.OutcomeDescription);
        text.Field("auditSource", record.AuditSource);
        text.Count("activeParticipants", record.ActiveParticipants.Count);
        foreach (var participant in record.ActiveParticipants)
        {
            text.Field("userId", participant.UserId);
            text.Field("kind", participant.Kind);
            text.Field("isRequestor", participant.IsRequestor ? "true" : "false");
            text.Field("role", participant.Role);
            text.Field("networkAccessPoint", participant.NetworkAccessPoint);
        }

        text.Count("participantObjects", record.ParticipantObjects.Count);
        foreach (var item in record.ParticipantObjects)
        {
            text.Field("typeCode", item.TypeCode.ToString(CultureInfo.InvariantCulture));
            text.Field("roleCode", item.RoleCode.ToString(CultureInfo.InvariantCulture));
            text.Field("idTypeCode", item.IdTypeCode);
            text.Field("id", item.Id);
            text.Field("detail", item.Detail);
        }

        text.Field("patientKey", record.PatientKey);
        text.Field("userId", record.UserId);
        text.Field("siteId", record.SiteId);
        text.Field("registrationId", record.RegistrationId);
        text.Field("previousHash", record.PreviousHash);
        return text.ToBytes();
    }

    /// <summary>Canonical form of a block of the global chain: everything but its own hash.</summary>
    public static byte[] Of(AuditChainBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var text = new Writer("siblk1");
        text.Field("position", block.Position.ToString(CultureInfo.InvariantCulture));
        text.Field("previousHash", block.PreviousHash);
        text.Field("sealedAt", Time(block.SealedAt));
        text.Count("entries", block.Entries.Count);
        foreach (var entry in block.Entries)
        {
            text.Field("recordId", entry.RecordId);
            text.Field("partitionKey", entry.PartitionKey);
            text.Field("hash", entry.Hash);
        }

        return text.ToBytes();
    }

    /// <summary>What an anchor's signature covers: the chain head it vouches for and who signed it.</summary>
    public static byte[] Of(AuditChainHead head, string keyId)
    {
        ArgumentNullException.ThrowIfNull(head);
        var text = new Writer("sianc1");
        text.Field("position", head.Position.ToString(CultureInfo.InvariantCulture));
        text.Field("hash", head.Hash);
        text.Field("sealedAt", Time(head.SealedAt));
        text.Field("keyId", keyId);
        return text.ToBytes();
    }

    /// <summary>SHA-256 of the record's canonical form, lowercase hex.</summary>
    public static string HashOf(AuditRecord record) => Convert.ToHexStringLower(SHA256.HashData(Of(record)));

    /// <summary>SHA-256 of the block's canonical form, lowercase hex.</summary>
    public static string HashOf(AuditChainBlock block) => Convert.ToHexStringLower(SHA256.HashData(Of(block)));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private sealed class Writer
    {
        private readonly StringBuilder text = new();

        public Writer(string tag) => text.Append(tag).Append('\n');

        public void Field(string name, string? value)
        {
            text.Append(name).Append('=');
            if (value is null)
            {
                text.Append("-\n");
                return;
            }

            text.Append(Encoding.UTF8.GetByteCount(value).ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('\n');
        }

        public void Count(string name, int count) => text.Append(name).Append("#=").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');

        public byte[] ToBytes() => Encoding.UTF8.GetBytes(text.ToString());
    }
}
