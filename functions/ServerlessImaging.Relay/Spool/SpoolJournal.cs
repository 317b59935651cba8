using Microsoft.Extensions.Logging;

namespace ServerlessImaging.Relay.Spool;

/// <summary>
/// One open spool journal: the relay's own append-only record of work done for one subject (a staging destination, a
/// delivery), so a redelivered or retried command resumes without duplicates. Each record is one unbuffered write of one
/// line (see <see cref="JournalFormat{TRecord}"/>), so a crash mid-append loses at most that record, which costs that
/// piece of work done again, never a wrong record. Appends are serialized (callers may append concurrently); the holder
/// has the subject to itself until disposed (<see cref="JournalFolder{TRecord}"/>).
/// </summary>
public sealed class SpoolJournal<TRecord> : IAsyncDisposable
    where TRecord : class
{
    private readonly JournalFormat<TRecord> _format;
    private readonly FileStream _file;
    private readonly SemaphoreSlim _appendGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TRecord> _recorded;
    private readonly Action _release;
    private readonly ILogger _logger;
    private bool _writeFailed;
    private bool _closed;
    private int _released;

    private SpoolJournal(string path, JournalFormat<TRecord> format, FileStream file, Dictionary<string, TRecord> recorded, int ignoredLines, Action release, ILogger logger)
    {
        FilePath = path;
        _format = format;
        _file = file;
        _recorded = recorded;
        IgnoredLines = ignoredLines;
        _release = release;
        _logger = logger;
    }

    /// <summary>The journal file.</summary>
    public string FilePath { get; }

    /// <summary>Lines found unreadable when the journal was opened (a torn last line, or damage): their work is done again.</summary>
    public int IgnoredLines { get; }

    /// <summary>Records so far, by key (what earlier attempts and this one recorded).</summary>
    public IReadOnlyDictionary<string, TRecord> Recorded
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, TRecord>(_recorded, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>
    /// Opens (or creates) the journal at <paramref name="path"/> for <paramref name="identity"/>, reading what it holds;
    /// a torn tail is cut off so the next append starts on a fresh line, a missing or foreign header starts afresh.
    /// </summary>
    internal static async Task<SpoolJournal<TRecord>> OpenAsync(string path, JournalIdentity identity, JournalFormat<TRecord> format, Action release, ILogger logger, CancellationToken cancellationToken)
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
            var (recorded, validLength, ignored) = format.Parse(bytes, identity);
            if (validLength == 0)
            {
                file.SetLength(0);
                file.Position = 0;
                await file.WriteAsync(JournalFormat<TRecord>.HeaderLine(identity), CancellationToken.None);
            }
            else
            {
                file.SetLength(validLength);
                file.Position = validLength;
            }

            return new SpoolJournal<TRecord>(path, format, file, recorded, ignored, release, logger);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Records a piece of work done. Never cancelled half-way (a partial line would cost the next record too); if the
    /// disk refuses, the record still counts for this run and a resume simply does that work again.
    /// </summary>
    public async Task AppendAsync(TRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var line = _format.RecordLine(record);
        await _appendGate.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                _recorded[_format.KeyOf(record)] = record;
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
                    _logger.LogWarning("The {Kind} journal {Journal} could not be written ({Error}); {Cost}", _format.Kind, Path.GetFileName(FilePath), ex.GetType().Name, _format.LostRecordCost);
                }
            }
        }
        finally
        {
            _appendGate.Release();
        }
    }

    /// <summary>Deletes the journal: its command was reported complete, nothing is left to resume.</summary>
    public async Task DeleteAsync()
    {
        await CloseFileAsync();
        File.Delete(FilePath);
    }

    /// <summary>
    /// Closes the journal (kept on disk for a resume, unless it records nothing) and lets the next command for the same
    /// subject open it.
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
                // Nothing to resume from (e.g. the command failed before any work): no need to keep a header alone.
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
            _logger.LogDebug("Empty {Kind} journal {Journal} not deleted: {Error}", _format.Kind, Path.GetFileName(FilePath), ex.GetType().Name);
        }
    }
}
