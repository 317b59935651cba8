using System.Buffers;
using System.Text.Json;

namespace ServerlessImaging.Relay.Spool;

/// <summary>
/// What a spool journal is of: the header's properties after <c>"journal":1</c>, in order (a staging destination's
/// container and prefix, a delivery's study and destination). They also name the file.
/// </summary>
public sealed class JournalIdentity
{
    /// <summary>Creates an identity from its header properties.</summary>
    public JournalIdentity(params (string Name, string Value)[] properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        Properties = [.. properties];
    }

    /// <summary>The header properties, written and compared in this order.</summary>
    public IReadOnlyList<(string Name, string Value)> Properties { get; }

    /// <summary>The string the file name hashes: the values joined by newlines (what earlier relays hashed too).</summary>
    public string FileKey => string.Join('\n', Properties.Select(p => p.Value));
}

/// <summary>
/// The on-disk format of one kind of spool journal: JSON lines, a header <c>{"journal":1,…identity}</c>, then one line
/// per record. A kind says how its records are written and read back (and how it is named in logs and errors); the
/// line rules are here once: only newline-terminated lines count, a torn last line is ignored (the caller cuts it
/// off), a missing, torn or foreign header means starting afresh, an unreadable record is ignored.
/// </summary>
public abstract class JournalFormat<TRecord>
    where TRecord : class
{
    private const int FormatVersion = 1;

    /// <summary>The kind in lower case, for logs and errors ("staging", "delivery").</summary>
    public abstract string Kind { get; }

    /// <summary>What a record lost to a refused disk write costs, for the warning that reports it.</summary>
    public abstract string LostRecordCost { get; }

    /// <summary>What a record is found by (a SOP instance UID).</summary>
    public abstract string KeyOf(TRecord record);

    /// <summary>The error a command fails with when the journal file cannot be opened.</summary>
    public abstract Exception CannotOpen(string message, Exception inner);

    /// <summary>
    /// Reads a journal's bytes: the records of its complete lines by key (the first of a key wins), the length up to
    /// the last newline (0: start afresh) and how many lines were ignored.
    /// </summary>
    internal (Dictionary<string, TRecord> Records, long ValidLength, int IgnoredLines) Parse(ReadOnlySpan<byte> bytes, JournalIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var records = new Dictionary<string, TRecord>(StringComparer.Ordinal);
        var end = bytes.LastIndexOf((byte)'\n') + 1;
        var ignored = end < bytes.Length ? 1 : 0; // a torn last line: the crash came mid-append
        var complete = bytes[..end];
        var firstBreak = complete.IndexOf((byte)'\n');
        if (firstBreak < 0 || !IsHeaderFor(complete[..firstBreak], identity))
        {
            return (records, 0, ignored + (firstBreak < 0 ? 0 : 1));
        }

        var rest = complete[(firstBreak + 1)..];
        while (!rest.IsEmpty)
        {
            var lineEnd = rest.IndexOf((byte)'\n');
            if (ReadLine(rest[..lineEnd], ReadRecord, null) is { } record)
            {
                records.TryAdd(KeyOf(record), record);
            }
            else
            {
                ignored++;
            }

            rest = rest[(lineEnd + 1)..];
        }

        return (records, end, ignored);
    }

    /// <summary>The header line of a journal of <paramref name="identity"/>, newline included.</summary>
    internal static byte[] HeaderLine(JournalIdentity identity) => Line(writer =>
    {
        writer.WriteNumber("journal", FormatVersion);
        foreach (var (name, value) in identity.Properties)
        {
            writer.WriteString(name, value);
        }
    });

    /// <summary>The line of one record, newline included: appended in one write.</summary>
    internal byte[] RecordLine(TRecord record) => Line(writer => WriteRecord(writer, record));

    /// <summary>Writes the record's properties (the enclosing object is written by the caller).</summary>
    protected abstract void WriteRecord(Utf8JsonWriter writer, TRecord record);

    /// <summary>The record of a line's JSON object, or null when a property is missing or wrong: the line is ignored.</summary>
    protected abstract TRecord? ReadRecord(JsonElement line);

    private static bool IsHeaderFor(ReadOnlySpan<byte> line, JournalIdentity identity) =>
        ReadLine(
            line,
            root => root.TryGetProperty("journal", out var version) && version.ValueKind == JsonValueKind.Number
                && version.TryGetInt32(out var number) && number == FormatVersion
                && identity.Properties.All(p => root.TryGetProperty(p.Name, out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(p.Value)),
            fallback: false);

    /// <summary>Reads one line as a JSON object; a line that is not one (damage) gives <paramref name="fallback"/>, never an error.</summary>
    private static T ReadLine<T>(ReadOnlySpan<byte> line, Func<JsonElement, T> read, T fallback)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object ? read(document.RootElement) : fallback;
        }
        catch (JsonException)
        {
            return fallback;
        }
    }

    private static byte[] Line(Action<Utf8JsonWriter> properties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            properties(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
