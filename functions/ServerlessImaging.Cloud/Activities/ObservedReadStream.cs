namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// A forward-only read stream over another that shows every chunk read (and an empty one at the end) to
/// <see cref="Observe"/>, which may throw to abort the reader: hashing and checking staged instances as they stream.
/// Disposing it disposes the inner stream.
/// </summary>
internal abstract class ObservedReadStream(Stream inner) : ForwardReadStream
{
    /// <summary>Bytes read so far, the chunk being observed included.</summary>
    public long BytesRead { get; private set; }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer) => Account(buffer[..inner.Read(buffer)]);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n]);
    }

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
