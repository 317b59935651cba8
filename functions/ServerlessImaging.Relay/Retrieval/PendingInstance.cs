using System.Buffers;
using System.Security.Cryptography;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// One received instance waiting for upload: Part 10 bytes hashed (SHA-256) as they arrive, kept in memory
/// within the <see cref="SpoolBudget"/> and spilled to a spool file beyond it. Never a whole study in memory.
/// </summary>
internal sealed class PendingInstance : IAsyncDisposable
{
    private readonly SpoolBudget _budget;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private PooledBufferStream? _memory;
    private FileStream? _file;
    private string? _filePath;
    private long _memoryReserved;
    private long _diskReserved;

    public PendingInstance(SpoolBudget budget, string seriesInstanceUid, string sopInstanceUid)
    {
        _budget = budget;
        _memory = new PooledBufferStream(budget.ChunkPool);
        SeriesInstanceUid = seriesInstanceUid;
        SopInstanceUid = sopInstanceUid;
    }

    public string SeriesInstanceUid { get; }

    public string SopInstanceUid { get; }

    public long Length { get; private set; }

    public string Sha256 { get; private set; } = string.Empty;

    public bool Spilled => _file is not null;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _hash.AppendData(bytes.Span);
        Length += bytes.Length;
        if (_memory is not null)
        {
            if (_budget.TryReserveMemory(bytes.Length))
            {
                _memoryReserved += bytes.Length;
                _memory.Write(bytes.Span);
                return;
            }

            await SpillAsync(cancellationToken);
        }

        await _budget.ReserveDiskAsync(bytes.Length, cancellationToken);
        _diskReserved += bytes.Length;
        await _file!.WriteAsync(bytes, cancellationToken);
    }

    public async ValueTask WriteAsync(ReadOnlySequence<byte> bytes, CancellationToken cancellationToken)
    {
        foreach (var segment in bytes)
        {
            await WriteAsync(segment, cancellationToken);
        }
    }

    /// <summary>Finishes the hash and returns a stream over the content, positioned at 0.</summary>
    public async ValueTask<Stream> SealAsync(CancellationToken cancellationToken)
    {
        Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (_file is not null)
        {
            await _file.FlushAsync(cancellationToken);
            _file.Position = 0;
            return _file;
        }

        _memory!.Position = 0;
        return _memory;
    }

    private async ValueTask SpillAsync(CancellationToken cancellationToken)
    {
        _filePath = Path.Combine(_budget.Directory, $"{Guid.NewGuid():N}.spool");
        _file = new FileStream(_filePath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous | FileOptions.DeleteOnClose,
            BufferSize = 64 * 1024,
        });
        var memory = _memory!;
        _memory = null;
        await _budget.ReserveDiskAsync(memory.Length, cancellationToken);
        _diskReserved += memory.Length;
        await memory.CopyAllToAsync(_file, cancellationToken);
        _budget.ReleaseMemory(_memoryReserved);
        _memoryReserved = 0;
        await memory.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (_memory is not null)
        {
            await _memory.DisposeAsync();
        }

        if (_file is not null)
        {
            await _file.DisposeAsync(); // DeleteOnClose removes the spool file
        }

        _budget.ReleaseMemory(_memoryReserved);
        _budget.ReleaseDisk(_diskReserved);
        _memoryReserved = 0;
        _diskReserved = 0;
    }
}
