namespace ServerlessImaging.Dicom;

/// <summary>Buffered, position-tracking reader over a stream. Header reads are served from the buffer (synchronously
/// completing ValueTasks); the stream is only awaited when the buffer runs dry.</summary>
internal sealed class DicomInput
{
    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _bufferBase; // stream position of _buffer[0]
    private bool _eof;

    public DicomInput(Stream stream, long basePosition = 0, int bufferSize = 64 * 1024)
    {
        _stream = stream;
        _buffer = new byte[bufferSize];
        _bufferBase = basePosition;
    }

    /// <summary>Absolute position in the (decoded) stream of the next unread byte.</summary>
    public long Position => _bufferBase + _start;

    public int Buffered => _end - _start;

    /// <summary>Remaining bytes if the stream knows its length, else long.MaxValue.</summary>
    public long Remaining => _stream.CanSeek ? _stream.Length - _stream.Position + Buffered : long.MaxValue;

    public ReadOnlySpan<byte> Span(int count) => _buffer.AsSpan(_start, count);

    public void Advance(int count) => _start += count;

    /// <summary>Makes at least <paramref name="count"/> bytes available; false at end of stream.</summary>
    public ValueTask<bool> TryEnsureAsync(int count, CancellationToken ct) =>
        Buffered >= count ? ValueTask.FromResult(true) : FillAsync(count, ct);

    public async ValueTask EnsureAsync(int count, CancellationToken ct)
    {
        if (Buffered < count && !await FillAsync(count, ct))
        {
            throw new DicomMalformedDataException("Unexpected end of data", Position + Buffered);
        }
    }

    private async ValueTask<bool> FillAsync(int count, CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferBase += _start;
            _end -= _start;
            _start = 0;
        }
        if (count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(count, _buffer.Length * 2));
        }
        while (_end < count && !_eof)
        {
            var n = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
            if (n == 0)
            {
                _eof = true;
            }
            _end += n;
        }
        return _end >= count;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes into a new array. A length larger than what the stream holds is an error,
    /// never an attempt to allocate it: for streams of unknown length the array grows as data actually arrives.</summary>
    public async ValueTask<byte[]> ReadBytesAsync(long length, CancellationToken ct)
    {
        if (length > Remaining || length > Array.MaxLength)
        {
            throw new DicomMalformedDataException($"Value length {length} exceeds the remaining data", Position);
        }
        var result = new byte[Math.Min(length, Math.Max(Buffered, 1 << 20))];
        long done = 0;
        while (done < length)
        {
            if (Buffered == 0 && !await FillAsync(1, ct))
            {
                throw new DicomMalformedDataException($"Value length {length} exceeds the remaining data", Position);
            }
            var n = (int)Math.Min(Buffered, length - done);
            if (done + n > result.Length)
            {
                Array.Resize(ref result, (int)Math.Min(length, Math.Max(result.Length * 2L, done + n)));
            }
            Buffer.BlockCopy(_buffer, _start, result, (int)done, n);
            _start += n;
            done += n;
        }
        return result;
    }

    /// <summary>Skips bytes, seeking when the stream allows it.</summary>
    public async ValueTask SkipAsync(long length, CancellationToken ct)
    {
        if (length > Remaining)
        {
            throw new DicomMalformedDataException($"Value length {length} exceeds the remaining data", Position);
        }
        if (length <= Buffered)
        {
            _start += (int)length;
            return;
        }
        var rest = length - Buffered;
        _bufferBase += _end;
        _start = _end = 0;
        if (_stream.CanSeek)
        {
            _stream.Seek(rest, SeekOrigin.Current);
            _bufferBase += rest;
            return;
        }
        while (rest > 0)
        {
            var n = await _stream.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(_buffer.Length, rest)), ct);
            if (n == 0)
            {
                throw new DicomMalformedDataException("Unexpected end of data", _bufferBase);
            }
            rest -= n;
            _bufferBase += n;
        }
    }

    /// <summary>The unread buffered bytes followed by the rest of the stream (used to switch to a deflate decoder).</summary>
    public Stream RemainderAsStream() => new PrefixedStream(_buffer.AsMemory(_start, Buffered), _stream);

    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }
            return inner.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_prefix.IsEmpty)
            {
                return ValueTask.FromResult(Read(buffer.Span));
            }
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
