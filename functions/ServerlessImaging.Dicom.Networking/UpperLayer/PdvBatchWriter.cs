using System.Buffers;
using System.Buffers.Binary;

namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>
/// Frames a DIMSE message into P-DATA-TF PDUs (one PDV each, at most the peer's limit) inside one pooled batch buffer, and hands
/// each full batch to the transport in a single write: a 512 KB instance at a 16 KB peer PDU is ~2 socket writes, not 33
/// flushes. The data set length need not be known: a PDV is closed (and its "last" bit decided) only when more data arrives
/// or the message is finished. A command may be framed first so that it leaves in the same write as the first data.
/// Holds at most one batch (256 KB by default) whatever the message size and the peer's maximum PDU.
/// </summary>
internal sealed class PdvBatchWriter : Stream
{
    private const int HeaderLength = 12; // PDU type, reserved, PDU length (4), PDV item length (4), context id, control header
    private const int DefaultBatchBytes = 256 * 1024;
    private readonly UpperLayerConnection _connection;
    private readonly byte _pcid;
    private readonly int _maxPdvData;
    private byte[]? _buffer;
    private int _used;        // bytes of finished PDUs plus the open PDV
    private int _openStart = -1; // offset of the open data PDV's header, -1 when none
    private bool _wroteData;

    public PdvBatchWriter(UpperLayerConnection connection, byte pcid, int maxPdvData, int batchBytes = DefaultBatchBytes)
    {
        _connection = connection;
        _pcid = pcid;
        _maxPdvData = maxPdvData;
        // Never more than the batch, even when the peer allows 4 MB PDUs: a PDV is simply closed where the batch ends.
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(batchBytes, HeaderLength + 64));
    }

    /// <summary>Some bytes of the message were handed to the transport (a failure from now on leaves the peer mid-message).</summary>
    public bool HasSent { get; private set; }

    /// <summary>The transport failed (as opposed to whoever produces the data).</summary>
    public bool TransportFailed { get; private set; }

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PdvBatchWriter));

    /// <summary>Frames a whole command set (its length is known, so every PDV is final at once).</summary>
    public async ValueTask WriteCommandAsync(ReadOnlyMemory<byte> command, CancellationToken ct)
    {
        var offset = 0;
        do
        {
            var length = Math.Min(Math.Min(_maxPdvData, Buffer.Length - HeaderLength), command.Length - offset);
            if (Buffer.Length - _used < HeaderLength + length) await FlushBatchAsync(ct);
            WriteHeader(_used, isCommand: true, isLast: offset + length >= command.Length, length);
            command.Span.Slice(offset, length).CopyTo(Buffer.AsSpan(_used + HeaderLength));
            _used += HeaderLength + length;
            offset += length;
        }
        while (offset < command.Length);
    }

    /// <summary>Appends data set bytes, closing full PDVs and writing full batches.</summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            if (_openStart < 0 || OpenLength == _maxPdvData)
            {
                if (_openStart >= 0) CloseOpenPdv(isLast: false);
                if (Buffer.Length - _used < HeaderLength + Math.Min(_maxPdvData, 64)) await FlushBatchAsync(cancellationToken);
                _openStart = _used;
                _used += HeaderLength;
                _wroteData = true;
            }
            var room = Math.Min(_maxPdvData - OpenLength, Buffer.Length - _used);
            if (room == 0)
            {
                // The batch is full in the middle of a PDV: close it here (a shorter PDV is legal) and go on in the next batch.
                CloseOpenPdv(isLast: false);
                await FlushBatchAsync(cancellationToken);
                continue;
            }
            var take = Math.Min(room, data.Length);
            data.Span[..take].CopyTo(Buffer.AsSpan(_used));
            _used += take;
            data = data[take..];
        }
    }

    /// <summary>Marks the last PDV of the data set and writes what is left. Must be called once, after all data.</summary>
    public async ValueTask CompleteAsync(bool hasDataSet, CancellationToken ct)
    {
        if (hasDataSet)
        {
            if (!_wroteData)
            {
                if (Buffer.Length - _used < HeaderLength) await FlushBatchAsync(ct);
                _openStart = _used;
                _used += HeaderLength;
            }
            CloseOpenPdv(isLast: true);
        }
        await FlushBatchAsync(ct);
    }

    private int OpenLength => _used - _openStart - HeaderLength;

    private void CloseOpenPdv(bool isLast)
    {
        WriteHeader(_openStart, isCommand: false, isLast, OpenLength);
        _openStart = -1;
    }

    private void WriteHeader(int at, bool isCommand, bool isLast, int dataLength)
    {
        var header = Buffer.AsSpan(at, HeaderLength);
        header[0] = (byte)PduType.DataTransfer;
        header[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[2..], (uint)(dataLength + 6));
        BinaryPrimitives.WriteUInt32BigEndian(header[6..], (uint)(dataLength + 2));
        header[10] = _pcid;
        header[11] = (byte)((isCommand ? 1 : 0) | (isLast ? 2 : 0));
    }

    private async ValueTask FlushBatchAsync(CancellationToken ct)
    {
        if (_openStart >= 0) throw new InvalidOperationException("A PDV is still open.");
        if (_used == 0) return;
        HasSent = true;
        try
        {
            await _connection.WriteFramedAsync(Buffer.AsMemory(0, _used), ct);
        }
        catch
        {
            TransportFailed = true;
            throw;
        }
        _used = 0;
    }

    protected override void Dispose(bool disposing)
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        base.Dispose(disposing);
    }

    // Stream plumbing: write-only, forward-only.
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask; // batches leave when full or on CompleteAsync
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
