using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace ServerlessImaging.Relay.Spool;

/// <summary>Rules every journal folder shares.</summary>
public static class JournalFolder
{
    /// <summary>How long a journal of a command that never completed is kept (its retry would come long before).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(3);

    /// <summary>The extension of journal files.</summary>
    internal const string Extension = ".journal";
}

/// <summary>
/// The journals of one kind in one folder of the spool: one file per subject (its <see cref="JournalIdentity"/>
/// hashed into the name). One holder per subject at a time: a second command for the same subject waits until the
/// first is done, then resumes from what it recorded. Journals untouched for <see cref="JournalFolder.MaxAge"/> are
/// removed (whenever a journal is opened, and at start), which bounds the disk they take.
/// </summary>
public class JournalFolder<TRecord>
    where TRecord : class
{
    private readonly JournalFormat<TRecord> _format;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Holder> _holders = new(StringComparer.Ordinal);

    /// <summary>Creates the folder's store (the folder itself is created on the first open).</summary>
    public JournalFolder(string directory, JournalFormat<TRecord> format, TimeProvider time, ILogger logger)
    {
        Directory = directory;
        _format = format;
        _time = time;
        _logger = logger;
    }

    /// <summary>Folder of the journal files.</summary>
    public string Directory { get; }

    /// <summary>The journal file of a subject (whether or not it exists).</summary>
    public string PathOf(JournalIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var key = Encoding.UTF8.GetBytes(identity.FileKey);
        return Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(key)) + JournalFolder.Extension);
    }

    /// <summary>
    /// Opens the journal of <paramref name="identity"/>, waiting while another command of this relay holds it. Throws
    /// the format's <see cref="JournalFormat{TRecord}.CannotOpen"/> error when the file cannot be opened, e.g. another
    /// relay process uses the same spool folder.
    /// </summary>
    public async Task<SpoolJournal<TRecord>> OpenAsync(JournalIdentity identity, CancellationToken cancellationToken)
    {
        var path = PathOf(identity);
        Holder holder;
        lock (_gate)
        {
            if (!_holders.TryGetValue(path, out holder!))
            {
                holder = new Holder();
                _holders[path] = holder;
            }

            holder.References++;
        }

        var entered = false;
        try
        {
            await holder.Turn.WaitAsync(cancellationToken);
            entered = true;
            RemoveStale();
            System.IO.Directory.CreateDirectory(Directory);
            return await SpoolJournal<TRecord>.OpenAsync(path, identity, _format, () => Release(path, holder, entered: true), _logger, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Release(path, holder, entered);
            throw _format.CannotOpen($"The {_format.Kind} journal could not be opened ({ex.GetType().Name}); is another relay using the same spool folder?", ex);
        }
        catch
        {
            Release(path, holder, entered);
            throw;
        }
    }

    /// <summary>Deletes journals not written for <see cref="JournalFolder.MaxAge"/>, except those held now.</summary>
    public int RemoveStale()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        var cutoff = _time.GetUtcNow().UtcDateTime - JournalFolder.MaxAge;
        var removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + JournalFolder.Extension))
        {
            try
            {
                // Under the lock: a command opening this very journal meanwhile must not lose it.
                lock (_gate)
                {
                    if (!_holders.ContainsKey(file) && File.GetLastWriteTimeUtc(file) < cutoff)
                    {
                        File.Delete(file);
                        removed++;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("Stale {Kind} journal {Journal} could not be removed: {Error}", _format.Kind, Path.GetFileName(file), ex.GetType().Name);
            }
        }

        if (removed > 0)
        {
            _logger.LogInformation("Removed {Count} {Kind} journal(s) older than {Days} days", removed, _format.Kind, JournalFolder.MaxAge.TotalDays);
        }

        return removed;
    }

    private void Release(string path, Holder holder, bool entered)
    {
        if (entered)
        {
            holder.Turn.Release();
        }

        lock (_gate)
        {
            if (--holder.References == 0)
            {
                _holders.Remove(path);
                holder.Turn.Dispose();
            }
        }
    }

    private sealed class Holder
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        public int References { get; set; }
    }
}
