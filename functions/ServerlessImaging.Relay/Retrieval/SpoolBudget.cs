using System.Buffers;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// Bounds what received-but-not-yet-uploaded instances may hold: a memory budget (beyond it, instances spill
/// to the spool folder) and a disk cap (beyond it, receiving waits for uploads to free space, which holds the
/// PACS back instead of filling the disk). Shared by every retrieval of the process.
/// </summary>
public sealed class SpoolBudget
{
    private readonly Lock _gate = new();
    private long _memory;
    private long _disk;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the budget.</summary>
    public SpoolBudget(string directory, long maxMemoryBytes, long maxDiskBytes)
    {
        Directory = directory;
        MaxMemoryBytes = maxMemoryBytes;
        MaxDiskBytes = maxDiskBytes;
        // Enough chunks for the whole budget plus a partly filled one per instance being received or uploaded. The shared
        // pool keeps a few dozen arrays of a size and drops the rest on return: during a long transfer the chunks beyond
        // those were allocated again and again and died old, so the relay's peak grew with the study (gen2 garbage).
        // Kept here, a chunk is allocated once and reused: memory stays at the budget's high-water mark.
        ChunkPool = ArrayPool<byte>.Create(PooledBufferStream.ChunkSize, (int)Math.Clamp((maxMemoryBytes / PooledBufferStream.ChunkSize) + 64, 64, 1 << 16));
        System.IO.Directory.CreateDirectory(directory);
    }

    /// <summary>Spool folder.</summary>
    public string Directory { get; }

    /// <summary>Where in-memory instances take their chunks from (<see cref="PooledBufferStream"/>).</summary>
    public ArrayPool<byte> ChunkPool { get; }

    /// <summary>Memory budget in bytes.</summary>
    public long MaxMemoryBytes { get; }

    /// <summary>Disk cap in bytes.</summary>
    public long MaxDiskBytes { get; }

    /// <summary>Bytes held in memory now.</summary>
    public long MemoryInUse => Interlocked.Read(ref _memory);

    /// <summary>Bytes on the spool now.</summary>
    public long DiskInUse => Interlocked.Read(ref _disk);

    /// <summary>Highest spool use seen (for tests and metrics).</summary>
    public long PeakDisk { get; private set; }

    /// <summary>Takes <paramref name="bytes"/> of memory if the budget allows.</summary>
    public bool TryReserveMemory(long bytes)
    {
        lock (_gate)
        {
            if (_memory + bytes > MaxMemoryBytes)
            {
                return false;
            }

            _memory += bytes;
            return true;
        }
    }

    /// <summary>Returns memory.</summary>
    public void ReleaseMemory(long bytes) => Release(ref _memory, bytes);

    /// <summary>Takes <paramref name="bytes"/> of spool, waiting for uploads to free room if needed.</summary>
    public async ValueTask ReserveDiskAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes > MaxDiskBytes)
        {
            throw new InvalidOperationException("An instance is larger than the whole spool cap.");
        }

        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_disk + bytes <= MaxDiskBytes)
                {
                    _disk += bytes;
                    PeakDisk = Math.Max(PeakDisk, _disk);
                    return;
                }

                wait = _released.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Returns spool.</summary>
    public void ReleaseDisk(long bytes) => Release(ref _disk, bytes);

    /// <summary>Deletes spool files left by a crashed run (called at start, before any retrieval).</summary>
    public void CleanLeftovers()
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.spool"))
        {
            File.Delete(file);
        }
    }

    private void Release(ref long counter, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        TaskCompletionSource released;
        lock (_gate)
        {
            counter -= bytes;
            released = _released;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        released.TrySetResult();
    }
}
