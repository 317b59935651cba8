using System.Buffers;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// A forward-only read stream that keeps what is read through it until <see cref="Replay"/>; from then on it serves the
/// kept bytes again, then the rest of the inner stream. The header of a staged instance is parsed through it and the
/// same download is then sent whole: one read per instance. What it keeps is bounded (a pooled buffer of at most
/// <c>limit</c> bytes, returned on dispose). Disposing it disposes the inner stream.
/// </summary>
internal sealed class HeaderRecordingStream(Stream inner, int limit) : ForwardReadStream
{
    private byte[] _kept = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 64 * 1024));
    private int _keptLength;
    private int _replayed;
    private bool _replaying;

    /// <summary>Stops keeping: the next reads start again from the first byte.</summary>
    public void Replay() => _replaying = true;

    public override int Read(Span<byte> buffer)
    {
        if (_replaying)
        {
            return _replayed < _keptLength ? ServeKept(buffer) : inner.Read(buffer);
        }

        var n = inner.Read(buffer);
        Keep(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_replaying)
        {
            return _replayed < _keptLength ? ServeKept(buffer.Span) : await inner.ReadAsync(buffer, cancellationToken);
        }

        var n = await inner.ReadAsync(buffer, cancellationToken);
        Keep(buffer.Span[..n]);
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            var kept = Interlocked.Exchange(ref _kept, []);
            if (kept.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(kept);
            }
        }

        base.Dispose(disposing);
    }

    private int ServeKept(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _keptLength - _replayed);
        _kept.AsSpan(_replayed, n).CopyTo(buffer);
        _replayed += n;
        return n;
    }

    private void Keep(ReadOnlySpan<byte> chunk)
    {
        if (_keptLength + chunk.Length > limit)
        {
            throw new HeaderTooLargeException();
        }

        if (_keptLength + chunk.Length > _kept.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(_kept.Length * 2, _keptLength + chunk.Length)));
            _kept.AsSpan(0, _keptLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_kept);
            _kept = larger;
        }

        chunk.CopyTo(_kept.AsSpan(_keptLength));
        _keptLength += chunk.Length;
    }

    /// <summary>More was read to find the header than a header may hold.</summary>
    internal sealed class HeaderTooLargeException : Exception
    {
        public HeaderTooLargeException() : base("The header runs past the largest header read.") { }

        public HeaderTooLargeException(string message) : base(message) { }

        public HeaderTooLargeException(string message, Exception innerException) : base(message, innerException) { }
    }
}
