using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Spool;

namespace ServerlessImaging.Relay.Delivery;

/// <summary>An instance the destination acknowledged (success or warning status), and the bytes sent for it.</summary>
public sealed record DeliveredInstance(string SopInstanceUid, long SizeBytes);

/// <summary>
/// The delivery journals of this relay, in <c>&lt;Spool:Directory&gt;/deliveries</c>: one per (study, destination),
/// recording each instance the destination acknowledged, so a redelivered or retried delivery sends only what is
/// missing. The worst a lost record costs is one instance sent twice, which a PACS stores once (same SOP instance UID).
/// The file mechanics are the shared spool journal's (<see cref="JournalFolder{TRecord}"/>).
/// </summary>
public sealed class DeliveryJournals(string spoolDirectory, TimeProvider time, ILogger<DeliveryJournals> logger)
    : JournalFolder<DeliveredInstance>(Path.Combine(spoolDirectory, "deliveries"), DeliveryJournalFormat.Instance, time, logger)
{
    /// <summary>The journal file of a delivery (whether or not it exists).</summary>
    public string PathOf(string studyInstanceUid, DeliveryDestination destination) => PathOf(DeliveryJournalFormat.IdentityOf(studyInstanceUid, destination));

    /// <summary>
    /// Opens the journal of a delivery, waiting while another command of this relay holds it. Throws
    /// <see cref="DeliveryException"/> (Internal) when the file cannot be opened.
    /// </summary>
    public Task<SpoolJournal<DeliveredInstance>> OpenAsync(string studyInstanceUid, DeliveryDestination destination, CancellationToken cancellationToken) =>
        OpenAsync(DeliveryJournalFormat.IdentityOf(studyInstanceUid, destination), cancellationToken);
}

/// <summary>
/// A delivery journal's lines: header <c>{"journal":1,"delivery":"study\nAE\nhost\nport"}</c>, records
/// <c>{"sop":…,"size":…}</c>.
/// </summary>
public sealed class DeliveryJournalFormat : JournalFormat<DeliveredInstance>
{
    private DeliveryJournalFormat()
    {
    }

    /// <summary>The one instance (the format has no state).</summary>
    public static DeliveryJournalFormat Instance { get; } = new();

    /// <inheritdoc />
    public override string Kind => "delivery";

    /// <inheritdoc />
    public override string LostRecordCost => "a resumed delivery will send again what this one sent";

    /// <summary>What a delivery's journal is of: the study and the destination (its host compared case-insensitively).</summary>
    public static JournalIdentity IdentityOf(string studyInstanceUid, DeliveryDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return new(("delivery", $"{studyInstanceUid}\n{destination.AeTitle}\n{destination.Host.ToLowerInvariant()}\n{destination.Port}"));
    }

    /// <inheritdoc />
    public override string KeyOf(DeliveredInstance record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.SopInstanceUid;
    }

    /// <inheritdoc />
    public override Exception CannotOpen(string message, Exception inner) => new DeliveryException(DeliveryFailureReason.Internal, false, message, inner);

    /// <inheritdoc />
    protected override void WriteRecord(Utf8JsonWriter writer, DeliveredInstance record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteString("sop", record.SopInstanceUid);
        writer.WriteNumber("size", record.SizeBytes);
    }

    /// <inheritdoc />
    protected override DeliveredInstance? ReadRecord(JsonElement line) =>
        line.TryGetProperty("sop", out var sop) && sop.ValueKind == JsonValueKind.String && sop.GetString() is { Length: > 0 } uid
            && line.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var sizeBytes) && sizeBytes >= 0
            ? new DeliveredInstance(uid, sizeBytes)
            : null;
}
