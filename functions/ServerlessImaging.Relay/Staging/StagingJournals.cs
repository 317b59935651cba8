using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Spool;

namespace ServerlessImaging.Relay.Staging;

/// <summary>
/// The staging journals of this relay, in <c>&lt;Spool:Directory&gt;/journals</c>: one per staging destination
/// (container + prefix), recording each instance whose upload succeeded (or found the blob already there), so a
/// redelivered or retried retrieval resumes without listing staging, which its create/write-only SAS cannot do.
/// The file mechanics are the shared spool journal's (<see cref="JournalFolder{TRecord}"/>).
/// </summary>
public sealed class StagingJournals(string spoolDirectory, TimeProvider time, ILogger<StagingJournals> logger)
    : JournalFolder<StagedInstance>(Path.Combine(spoolDirectory, "journals"), StagingJournalFormat.Instance, time, logger)
{
    /// <summary>The journal file of a destination (whether or not it exists).</summary>
    public string PathOf(StagingDestination destination) => PathOf(StagingJournalFormat.IdentityOf(destination));

    /// <summary>
    /// Opens the journal of <paramref name="destination"/>, waiting while another command of this relay holds it.
    /// Throws <see cref="StagingException"/> (Internal) when the file cannot be opened.
    /// </summary>
    public Task<SpoolJournal<StagedInstance>> OpenAsync(StagingDestination destination, CancellationToken cancellationToken) =>
        OpenAsync(StagingJournalFormat.IdentityOf(destination), cancellationToken);
}

/// <summary>
/// A staging journal's lines: header <c>{"journal":1,"container":…,"prefix":…}</c>, records
/// <c>{"series":…,"sop":…,"blob":…,"size":…,"sha256":…}</c>. A record with a field missing or malformed is not trusted
/// (its instance is fetched again and answered 409).
/// </summary>
public sealed class StagingJournalFormat : JournalFormat<StagedInstance>
{
    private StagingJournalFormat()
    {
    }

    /// <summary>The one instance (the format has no state).</summary>
    public static StagingJournalFormat Instance { get; } = new();

    /// <inheritdoc />
    public override string Kind => "staging";

    /// <inheritdoc />
    public override string LostRecordCost => "a resumed retrieval will upload again what this one staged";

    /// <summary>What a destination's journal is of; <c>a/b</c> and <c>a/b/</c> share one (blob names use no trailing slash).</summary>
    public static JournalIdentity IdentityOf(StagingDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return new(("container", destination.Container), ("prefix", destination.Prefix.TrimEnd('/')));
    }

    /// <inheritdoc />
    public override string KeyOf(StagedInstance record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.SopInstanceUid;
    }

    /// <inheritdoc />
    public override Exception CannotOpen(string message, Exception inner) => new StagingException(FailureReason.Internal, message, inner);

    /// <inheritdoc />
    protected override void WriteRecord(Utf8JsonWriter writer, StagedInstance record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteString("series", record.SeriesInstanceUid);
        writer.WriteString("sop", record.SopInstanceUid);
        writer.WriteString("blob", record.BlobName);
        writer.WriteNumber("size", record.SizeBytes);
        writer.WriteString("sha256", record.Sha256);
    }

    /// <inheritdoc />
    protected override StagedInstance? ReadRecord(JsonElement line)
    {
        if (!line.TryGetProperty("series", out var series) || series.ValueKind != JsonValueKind.String
            || !line.TryGetProperty("sop", out var sop) || sop.ValueKind != JsonValueKind.String
            || !line.TryGetProperty("blob", out var blob) || blob.ValueKind != JsonValueKind.String
            || !line.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var sizeBytes) || sizeBytes < 0
            || !line.TryGetProperty("sha256", out var sha) || sha.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var hash = sha.GetString()!;
        var record = new StagedInstance(series.GetString()!, sop.GetString()!, blob.GetString()!, sizeBytes, hash);
        return record.SeriesInstanceUid.Length > 0 && record.SopInstanceUid.Length > 0 && record.BlobName.Length > 0 && IsSha256Hex(hash) ? record : null;
    }

    private static bool IsSha256Hex(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);
}
