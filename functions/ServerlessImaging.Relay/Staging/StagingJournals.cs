using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Staging;

/// <summary>
/// The staging journals of this relay, in <c>&lt;Spool:Directory&gt;/journals</c>: one file per staging destination
/// (container + prefix, hashed into the name). One holder per destination at a time: a second command for the same
/// destination waits until the first is done, then resumes from what it recorded. Journals untouched for
/// <see cref="MaxAge"/> are removed (at start and whenever a journal is opened), which bounds the disk they take.
/// </summary>
public sealed class StagingJournals
{
    /// <summary>How long a journal of a retrieval that never completed is kept (its retry would come long before).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(3);

    private const string Extension = ".journal";
    private readonly TimeProvider _time;
    private readonly ILogger<StagingJournals> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Holder> _holders = new(StringComparer.Ordinal);

    /// <summary>Creates the store under <paramref name="spoolDirectory"/>.</summary>
    public StagingJournals(string spoolDirectory, TimeProvider time, ILogger<StagingJournals> logger)
    {
        Directory = Path.Combine(spoolDirectory, "journals");
        _time = time;
        _logger = logger;
    }

    /// <summary>Folder of the journal files.</summary>
    public string Directory { get; }

    /// <summary>The journal file of a destination (whether or not it exists).</summary>
    public string PathOf(StagingDestination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var key = Encoding.UTF8.GetBytes(destination.Container + "\n" + NormalizePrefix(destination.Prefix));
        return Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(key)) + Extension);
    }

    /// <summary>
    /// Opens the journal of <paramref name="destination"/>, waiting while another command of this relay holds it.
    /// Throws <see cref="StagingException"/> (Internal) when the file cannot be opened, e.g. another relay process uses
    /// the same spool folder.
    /// </summary>
    public async Task<StagingJournal> OpenAsync(StagingDestination destination, CancellationToken cancellationToken)
    {
        var path = PathOf(destination);
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
            return await StagingJournal.OpenAsync(path, destination, () => Release(path, holder, entered: true), _logger, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Release(path, holder, entered);
            throw new StagingException(FailureReason.Internal, $"The staging journal could not be opened ({ex.GetType().Name}); is another relay using the same spool folder?", ex);
        }
        catch
        {
            Release(path, holder, entered);
            throw;
        }
    }

    /// <summary>Deletes journals not written for <see cref="MaxAge"/>, except those held now.</summary>
    public int RemoveStale()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        var cutoff = _time.GetUtcNow().UtcDateTime - MaxAge;
        var removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
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
                _logger.LogWarning("Stale staging journal {Journal} could not be removed: {Error}", Path.GetFileName(file), ex.GetType().Name);
            }
        }

        if (removed > 0)
        {
            _logger.LogInformation("Removed {Count} staging journal(s) older than {Days} days", removed, MaxAge.TotalDays);
        }

        return removed;
    }

    /// <summary>The prefix as blob names use it (no trailing slash), so <c>a/b</c> and <c>a/b/</c> share a journal.</summary>
    internal static string NormalizePrefix(string prefix) => prefix.TrimEnd('/');

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
