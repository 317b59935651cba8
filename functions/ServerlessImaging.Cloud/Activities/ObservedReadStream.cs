namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// A forward-only read stream over another that shows every chunk read (and an empty one at the end) to
/// <see cref="Observe"/>, which may throw to abort the reader: hashing and checking staged instances as they stream.
/// Disposing it disposes the inner stream.
/// </summary>
internal abstract class ObservedReadStream(Stream inner) : Stream
{
    /// <summary>Bytes read so far, the chunk being observed included.</summary>
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Account(buffer[..inner.Read(buffer)]);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Sees a chunk just read (empty at the end of the stream); <see cref="BytesRead"/> already counts it.</summary>
    protected abstract void Observe(ReadOnlySpan<byte> chunk);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        BytesRead += chunk.Length;
        Observe(chunk);
        return chunk.Length;
    }
}
