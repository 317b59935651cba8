using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>
/// Streaming multipart reader (RFC 2046): yields each body part as a stream read straight from the
/// source, so a multi-gigabyte WADO-RS response never sits in memory. Preamble and epilogue are skipped.
/// </summary>
public sealed class MultipartReader : IAsyncDisposable
{
    private const int MaxHeaderSectionBytes = 16 * 1024;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly PipeReader _pipe;
    private readonly byte[] _delimiter; // CRLF "--" boundary
    private State _state = State.BeforeFirstBoundary;
    private long _bodyBytesBeforeDelimiter; // bytes of the current body known to precede any delimiter
    private bool _delimiterIsNext;

    public MultipartReader(Stream source, string boundary, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!MultipartBoundary.IsValid(boundary))
        {
            throw new MultipartFormatException("Invalid multipart boundary.");
        }
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        _pipe = PipeReader.Create(source, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: leaveOpen));
    }

    private enum State { BeforeFirstBoundary, InBody, Done }

    /// <summary>The next part, or null after the close delimiter. Any unread rest of the previous part is skipped.</summary>
    /// <exception cref="MultipartFormatException">The body is truncated or malformed.</exception>
    public async ValueTask<MultipartPart?> ReadNextPartAsync(CancellationToken cancellationToken = default)
    {
        switch (_state)
        {
            case State.Done:
                return null;
            case State.BeforeFirstBoundary:
                await SkipPreambleAsync(cancellationToken).ConfigureAwait(false);
                break;
            case State.InBody:
                await SkipRestOfBodyAsync(cancellationToken).ConfigureAwait(false);
                await ConsumeAsync(_delimiter.Length, cancellationToken).ConfigureAwait(false);
                break;
        }
        if (!await ReadBoundaryLineEndAsync(cancellationToken).ConfigureAwait(false))
        {
            _state = State.Done;
            return null;
        }
        var headers = await ReadHeadersAsync(cancellationToken).ConfigureAwait(false);
        _state = State.InBody;
        _bodyBytesBeforeDelimiter = 0;
        _delimiterIsNext = false;
        return new MultipartPart(headers, new PartBodyStream(this));
    }

    public ValueTask DisposeAsync() => _pipe.CompleteAsync();

    /// <summary>Reads body bytes of the current part; 0 at its end.</summary>
    internal async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_state != State.InBody || destination.IsEmpty || _delimiterIsNext && _bodyBytesBeforeDelimiter == 0)
        {
            return 0;
        }
        while (true)
        {
            var result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (_bodyBytesBeforeDelimiter == 0)
            {
                var index = IndexOf(buffer, _delimiter);
                if (index >= 0)
                {
                    _bodyBytesBeforeDelimiter = index;
                    _delimiterIsNext = true;
                }
                else if (result.IsCompleted)
                {
                    _pipe.AdvanceTo(buffer.Start);
                    throw new MultipartFormatException("The multipart body ended inside a part (no closing boundary).");
                }
                else
                {
                    // Whatever could still be the start of a delimiter stays in the pipe.
                    _bodyBytesBeforeDelimiter = Math.Max(0, buffer.Length - (_delimiter.Length - 1));
                }
            }
            if (_bodyBytesBeforeDelimiter == 0)
            {
                if (_delimiterIsNext)
                {
                    _pipe.AdvanceTo(buffer.Start);
                    return 0;
                }
                _pipe.AdvanceTo(buffer.Start, buffer.End); // need more data
                continue;
            }
            var count = (int)Math.Min(destination.Length, _bodyBytesBeforeDelimiter);
            buffer.Slice(0, count).CopyTo(destination.Span);
            _bodyBytesBeforeDelimiter -= count;
            _pipe.AdvanceTo(buffer.GetPosition(count));
            return count;
        }
    }

    private async ValueTask SkipRestOfBodyAsync(CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (await ReadBodyAsync(scratch, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async ValueTask SkipPreambleAsync(CancellationToken cancellationToken)
    {
        var dashBoundary = _delimiter.AsMemory(2); // the first boundary may open the body without a CRLF
        var result = await _pipe.ReadAtLeastAsync(dashBoundary.Length, cancellationToken).ConfigureAwait(false);
        if (result.Buffer.Length >= dashBoundary.Length && StartsWith(result.Buffer, dashBoundary.Span))
        {
            _pipe.AdvanceTo(result.Buffer.GetPosition(dashBoundary.Length));
            return;
        }
        _pipe.AdvanceTo(result.Buffer.Start);
        while (true)
        {
            result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var index = IndexOf(buffer, _delimiter);
            if (index >= 0)
            {
                _pipe.AdvanceTo(buffer.GetPosition(index + _delimiter.Length));
                return;
            }
            if (result.IsCompleted)
            {
                _pipe.AdvanceTo(buffer.End);
                throw new MultipartFormatException("The multipart body has no opening boundary.");
            }
            _pipe.AdvanceTo(buffer.GetPosition(Math.Max(0, buffer.Length - (_delimiter.Length - 1))), buffer.End);
        }
    }

    /// <summary>After a boundary: "--" means the close delimiter (false); otherwise optional padding and CRLF (true).</summary>
    private async ValueTask<bool> ReadBoundaryLineEndAsync(CancellationToken cancellationToken)
    {
        var result = await _pipe.ReadAtLeastAsync(2, cancellationToken).ConfigureAwait(false);
        var buffer = result.Buffer;
        if (buffer.Length >= 2 && StartsWith(buffer, "--"u8))
        {
            _pipe.AdvanceTo(buffer.GetPosition(2)); // the epilogue is left unread
            return false;
        }
        _pipe.AdvanceTo(buffer.Start);
        var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (line.AsSpan().Trim(" \t").Length != 0)
        {
            throw new MultipartFormatException("Unexpected characters after a multipart boundary.");
        }
        return true;
    }

    private async ValueTask<Dictionary<string, string>> ReadHeadersAsync(CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var total = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Length == 0)
            {
                return headers;
            }
            total += line.Length + 2;
            if (total > MaxHeaderSectionBytes)
            {
                throw new MultipartFormatException("A multipart part's header section is too large.");
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new MultipartFormatException("A multipart part header has no name.");
            }
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var index = IndexOf(buffer, CrLf);
            if (index >= 0)
            {
                if (index > MaxHeaderSectionBytes)
                {
                    throw new MultipartFormatException("A multipart header line is too long.");
                }
                var line = Encoding.Latin1.GetString(buffer.Slice(0, index));
                _pipe.AdvanceTo(buffer.GetPosition(index + 2));
                return line;
            }
            if (result.IsCompleted || buffer.Length > MaxHeaderSectionBytes)
            {
                _pipe.AdvanceTo(buffer.Start, buffer.End);
                throw new MultipartFormatException("The multipart body ended inside a part's headers.");
            }
            _pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async ValueTask ConsumeAsync(int count, CancellationToken cancellationToken)
    {
        var result = await _pipe.ReadAtLeastAsync(count, cancellationToken).ConfigureAwait(false);
        if (result.Buffer.Length < count)
        {
            _pipe.AdvanceTo(result.Buffer.End);
            throw new MultipartFormatException("The multipart body is truncated.");
        }
        _pipe.AdvanceTo(result.Buffer.GetPosition(count));
    }

    private static bool StartsWith(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> prefix)
    {
        if (buffer.First.Length >= prefix.Length)
        {
            return buffer.First.Span.StartsWith(prefix);
        }
        Span<byte> head = stackalloc byte[prefix.Length];
        buffer.Slice(0, prefix.Length).CopyTo(head);
        return head.SequenceEqual(prefix);
    }

    private static long IndexOf(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> value)
    {
        if (buffer.IsSingleSegment)
        {
            return buffer.FirstSpan.IndexOf(value);
        }
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> before, value, advancePastDelimiter: false) ? before.Length : -1;
    }

    /// <summary>Read-only view of the current part's body.</summary>
    private sealed class PartBodyStream(MultipartReader owner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            owner.ReadBodyAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            owner.ReadBodyAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Synchronous callers (e.g. a synchronous parser) block; async callers never do.
        public override int Read(byte[] buffer, int offset, int count) =>
            owner.ReadBodyAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
