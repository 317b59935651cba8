using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Staging;

/// <summary>
/// The relay's own record of what one retrieval command staged (key: destination container + prefix), so a
/// redelivered or retried command resumes without listing staging, which its create/write-only SAS cannot do.
/// An append-only file of JSON lines in the spool folder: a header naming the destination, then one line per instance
/// whose upload succeeded (or found the blob already there). Only newline-terminated lines count, so a crash mid-append
/// loses at most that record, which costs a re-upload answered 409, never a wrong manifest entry.
/// Appends are serialized (upload workers run concurrently); the holder has the destination to itself until disposed.
/// </summary>
public sealed class StagingJournal : IAsyncDisposable
{
    private const int FormatVersion = 1;
    private readonly FileStream _file;
    private readonly SemaphoreSlim _appendGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StagedInstance> _recorded;
    private readonly Action _release;
    private readonly ILogger _logger;
    private bool _writeFailed;
    private bool _closed;
    private int _released;

    private StagingJournal(string path, FileStream file, Dictionary<string, StagedInstance> recorded, int ignoredLines, Action release, ILogger logger)
    {
        FilePath = path;
        _file = file;
        _recorded = recorded;
        IgnoredLines = ignoredLines;
        _release = release;
        _logger = logger;
    }

    /// <summary>The journal file.</summary>
    public string FilePath { get; }

    /// <summary>Lines found unreadable when the journal was opened (a torn last line, or damage): their instances are fetched again.</summary>
    public int IgnoredLines { get; }

    /// <summary>Instances recorded so far, by SOP instance UID (what earlier attempts and this one staged).</summary>
    public IReadOnlyDictionary<string, StagedInstance> Recorded
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, StagedInstance>(_recorded, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>
    /// Opens (or creates) the journal at <paramref name="path"/> for <paramref name="destination"/>, reading what it
    /// holds; a torn tail is cut off so the next append starts on a fresh line. A header for another destination or
    /// an unreadable one starts the journal afresh.
    /// </summary>
    internal static async Task<StagingJournal> OpenAsync(string path, StagingDestination destination, Action release, ILogger logger, CancellationToken cancellationToken)
    {
        // FileShare.None: a second relay process on the same spool cannot interleave appends with this one.
        // Unbuffered, so each record is one write to the OS: a kill -9 right after an append keeps it.
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        });
        try
        {
            var bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, cancellationToken);
            var (recorded, validLength, ignored) = Parse(bytes, destination);
            if (validLength == 0)
            {
                file.SetLength(0);
                file.Position = 0;
                await file.WriteAsync(HeaderLine(destination), CancellationToken.None);
            }
            else
            {
                file.SetLength(validLength);
                file.Position = validLength;
            }

            return new StagingJournal(path, file, recorded, ignored, release, logger);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Records an instance that is now in staging. Never cancelled half-way (a partial line would cost the next record
    /// too); if the disk refuses, the instance is still counted for this run and a resume simply uploads it again.
    /// </summary>
    public async Task AppendAsync(StagedInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var line = RecordLine(instance);
        await _appendGate.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                _recorded[instance.SopInstanceUid] = instance;
            }

            if (!_writeFailed)
            {
                try
                {
                    await _file.WriteAsync(line, CancellationToken.None);
                }
                catch (IOException ex)
                {
                    _writeFailed = true;
                    _logger.LogWarning("Staging journal {Journal} could not be written ({Error}); a resumed retrieval will upload again what this one staged", Path.GetFileName(FilePath), ex.GetType().Name);
                }
            }
        }
        finally
        {
            _appendGate.Release();
        }
    }

    /// <summary>Deletes the journal: its retrieval was reported complete, nothing is left to resume.</summary>
    public async Task DeleteAsync()
    {
        await CloseFileAsync();
        File.Delete(FilePath);
    }

    /// <summary>
    /// Closes the journal (kept on disk for a resume, unless it records nothing) and lets the next command for the
    /// destination open it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (await CloseFileAsync())
        {
            bool empty;
            lock (_gate)
            {
                empty = _recorded.Count == 0;
            }

            if (empty)
            {
                // Nothing to resume from (e.g. the command failed before any upload): no need to keep a header alone.
                TryDelete();
            }
        }

        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }

    /// <summary>Closes the file; false when it was already closed.</summary>
    private async Task<bool> CloseFileAsync()
    {
        await _appendGate.WaitAsync(CancellationToken.None);
        try
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                _closed = true;
            }

            await _file.DisposeAsync();
            return true;
        }
        finally
        {
            _appendGate.Release();
        }
    }

    private void TryDelete()
    {
        try
        {
            File.Delete(FilePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogDebug("Empty staging journal {Journal} not deleted: {Error}", Path.GetFileName(FilePath), ex.GetType().Name);
        }
    }

    /// <summary>
    /// Reads a journal's bytes: the records of its complete lines, the length up to the last newline (0 when the
    /// header is missing, torn or for another destination: start afresh), and how many lines were ignored.
    /// </summary>
    internal static (Dictionary<string, StagedInstance> Records, long ValidLength, int IgnoredLines) Parse(ReadOnlySpan<byte> bytes, StagingDestination destination)
    {
        var records = new Dictionary<string, StagedInstance>(StringComparer.Ordinal);
        var end = bytes.LastIndexOf((byte)'\n') + 1;
        var ignored = end < bytes.Length ? 1 : 0; // a torn last line: the crash came mid-append
        var complete = bytes[..end];
        var firstBreak = complete.IndexOf((byte)'\n');
        if (firstBreak < 0 || !IsHeaderFor(complete[..firstBreak], destination))
        {
            return (records, 0, ignored + (firstBreak < 0 ? 0 : 1));
        }

        var rest = complete[(firstBreak + 1)..];
        while (!rest.IsEmpty)
        {
            var lineEnd = rest.IndexOf((byte)'\n');
            if (TryReadRecord(rest[..lineEnd]) is { } record)
            {
                records.TryAdd(record.SopInstanceUid, record);
            }
            else
            {
                ignored++;
            }

            rest = rest[(lineEnd + 1)..];
        }

        return (records, end, ignored);
    }

    private static bool IsHeaderFor(ReadOnlySpan<byte> line, StagingDestination destination)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("journal", out var version) && version.ValueKind == JsonValueKind.Number && version.GetInt32() == FormatVersion
                && root.TryGetProperty("container", out var container) && container.ValueEquals(destination.Container)
                && root.TryGetProperty("prefix", out var prefix) && prefix.ValueEquals(StagingJournals.NormalizePrefix(destination.Prefix));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static StagedInstance? TryReadRecord(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("series", out var series) || series.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("sop", out var sop) || sop.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("blob", out var blob) || blob.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("size", out var size) || !size.TryGetInt64(out var sizeBytes) || sizeBytes < 0
                || !root.TryGetProperty("sha256", out var sha) || sha.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var hash = sha.GetString()!;
            var record = new StagedInstance(series.GetString()!, sop.GetString()!, blob.GetString()!, sizeBytes, hash);
            return record.SeriesInstanceUid.Length > 0 && record.SopInstanceUid.Length > 0 && record.BlobName.Length > 0 && IsSha256Hex(hash) ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsSha256Hex(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    private static byte[] HeaderLine(StagingDestination destination) => Line(writer =>
    {
        writer.WriteNumber("journal", FormatVersion);
        writer.WriteString("container", destination.Container);
        writer.WriteString("prefix", StagingJournals.NormalizePrefix(destination.Prefix));
    });

    internal static byte[] RecordLine(StagedInstance instance) => Line(writer =>
    {
        writer.WriteString("series", instance.SeriesInstanceUid);
        writer.WriteString("sop", instance.SopInstanceUid);
        writer.WriteString("blob", instance.BlobName);
        writer.WriteNumber("size", instance.SizeBytes);
        writer.WriteString("sha256", instance.Sha256);
    });

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
