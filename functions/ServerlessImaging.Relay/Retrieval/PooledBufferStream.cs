using System.Buffers;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// An in-memory stream over pooled 64 KiB chunks (from the spool budget's own pool): instances of unknown size are received without the
/// doubling copies and large-object-heap garbage of a growing MemoryStream. Write, then rewind and read.
/// </summary>
internal sealed class PooledBufferStream(ArrayPool<byte> pool) : Stream
{
    /// <summary>Bytes per chunk.</summary>
    public const int ChunkSize = 64 * 1024;
    private readonly List<byte[]> _chunks = [];
    private long _length;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value is >= 0 ? Math.Min(value, _length) : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var offset = (int)(_length % ChunkSize);
            if (offset == 0 && _length / ChunkSize == _chunks.Count)
            {
                _chunks.Add(pool.Rent(ChunkSize));
            }

            var n = Math.Min(ChunkSize - offset, buffer.Length);
            buffer[..n].CopyTo(_chunks[(int)(_length / ChunkSize)].AsSpan(offset, n));
            _length += n;
            buffer = buffer[n..];
        }

        _position = _length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var total = 0;
        while (buffer.Length > 0 && _position < _length)
        {
            var offset = (int)(_position % ChunkSize);
            var n = (int)Math.Min(Math.Min(ChunkSize - offset, buffer.Length), _length - _position);
            _chunks[(int)(_position / ChunkSize)].AsSpan(offset, n).CopyTo(buffer);
            _position += n;
            total += n;
            buffer = buffer[n..];
        }

        return total;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => _length + offset,
    };

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    /// <summary>Copies everything written to <paramref name="destination"/> (used when spilling to the spool).</summary>
    public async Task CopyAllToAsync(Stream destination, CancellationToken cancellationToken)
    {
        var remaining = _length;
        foreach (var chunk in _chunks)
        {
            var n = (int)Math.Min(ChunkSize, remaining);
            await destination.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
            remaining -= n;
        }
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var chunk in _chunks)
        {
            pool.Return(chunk);
        }

        _chunks.Clear();
        base.Dispose(disposing);
    }
}
