using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>One PDV header read off a P-DATA-TF PDU; its data follows and must be consumed with <see cref="UpperLayerConnection.ReadPdvDataAsync"/>.</summary>
internal readonly record struct PdvHeader(byte PresentationContextId, bool IsCommand, bool IsLast, int DataLength);

/// <summary>What the next read produced: a PDV, or a release PDU.</summary>
internal enum IncomingKind { Pdv, ReleaseRequest, ReleaseResponse }

/// <summary>
/// The PDU transport over a TCP socket (optionally TLS): reads PDUs from a <see cref="PipeReader"/> and streams P-DATA-TF PDV data
/// without buffering whole PDUs, writes PDUs through a <see cref="PipeWriter"/>. Knows nothing about DIMSE.
/// </summary>
internal sealed class UpperLayerConnection : IAsyncDisposable
{
    private const int ControlPduCap = 1024 * 1024; // association PDUs are small; anything bigger is hostile or broken
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _pduRemaining; // bytes still unread in the current P-DATA-TF PDU
    private int _pdvRemaining;  // bytes still unread in the current PDV
    private int _disposed;

    private UpperLayerConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
    }

    /// <summary>The largest P-DATA-TF PDU we accept (what we announced), capped.</summary>
    public uint IncomingPduLimit { get; set; } = AssociationOptions.DefaultMaxPduLength;

    public System.Net.EndPoint? RemoteEndPoint => _socket.RemoteEndPoint;

    public static async Task<UpperLayerConnection> ConnectAsync(string host, int port, AssociationOptions options, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, ct);
            return await WrapAsync(socket, options, isServer: false, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task<UpperLayerConnection> WrapAsync(Socket socket, AssociationOptions options, bool isServer, CancellationToken ct)
    {
        socket.NoDelay = true;
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            if (isServer && options.TlsServer is { } serverTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(serverTls, ct);
            }
            else if (!isServer && options.TlsClient is { } clientTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(clientTls, ct);
            }
            return new UpperLayerConnection(socket, stream);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> pdu, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            await _writer.WriteAsync(pdu, ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Writes bytes that are already framed as whole PDUs straight to the transport, bypassing the pipe (no copy). Safe to mix
    /// with the pipe writes: every pipe write is flushed before its lock is released.
    /// </summary>
    public async ValueTask WriteFramedAsync(ReadOnlyMemory<byte> framed, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            await _stream.WriteAsync(framed, ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends one P-DATA-TF PDU holding one PDV whose data is produced by <paramref name="fill"/> directly into the pipe buffer.</summary>
    public async ValueTask WritePdvAsync(byte pcid, bool isCommand, bool isLast, int dataLength, Action<Span<byte>> fill, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            WritePdvHeader(pcid, isCommand, isLast, dataLength);
            var span = _writer.GetSpan(dataLength);
            fill(span[..dataLength]);
            _writer.Advance(dataLength);
            await _writer.FlushAsync(ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends one P-DATA-TF PDU with one PDV copied from <paramref name="data"/>.</summary>
    public async ValueTask WritePdvAsync(byte pcid, bool isCommand, bool isLast, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            WritePdvHeader(pcid, isCommand, isLast, data.Length);
            await _writer.WriteAsync(data, ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WritePdvHeader(byte pcid, bool isCommand, bool isLast, int dataLength)
    {
        var header = _writer.GetSpan(12);
        header[0] = (byte)PduType.DataTransfer;
        header[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[2..], (uint)(dataLength + 6));
        BinaryPrimitives.WriteUInt32BigEndian(header[6..], (uint)(dataLength + 2));
        header[10] = pcid;
        header[11] = (byte)((isCommand ? 1 : 0) | (isLast ? 2 : 0));
        _writer.Advance(12);
    }

    /// <summary>Reads a whole non-data PDU (association negotiation phase). Returns its type and body.</summary>
    public async ValueTask<(PduType Type, byte[] Body)> ReadControlPduAsync(CancellationToken ct)
    {
        if (_pduRemaining != 0 || _pdvRemaining != 0) throw new InvalidOperationException("A P-DATA-TF PDU is still being read.");
        var (type, length) = await ReadPduHeaderAsync(ct);
        if (type == PduType.DataTransfer) throw Protocol(AbortReason.UnexpectedPdu, "P-DATA-TF received before the association was established.");
        var body = await ReadExactlyAsync((int)length, ct);
        return (type, body);
    }

    /// <summary>Advances to the next PDV (reading a new PDU header when the current P-DATA-TF is exhausted). A-ABORT raises <see cref="AssociationAbortedException"/>.</summary>
    public async ValueTask<(IncomingKind Kind, PdvHeader Pdv)> ReadNextAsync(CancellationToken ct)
    {
        if (_pdvRemaining != 0) throw new InvalidOperationException("The previous PDV's data was not consumed.");
        if (_pduRemaining == 0)
        {
            var (type, length) = await ReadPduHeaderAsync(ct);
            switch (type)
            {
                case PduType.DataTransfer:
                    if (length > Math.Min(IncomingPduLimit == 0 ? AssociationOptions.AbsoluteMaxPduLength : IncomingPduLimit, AssociationOptions.AbsoluteMaxPduLength))
                        throw Protocol(AbortReason.InvalidPduParameterValue, $"P-DATA-TF of {length} bytes exceeds the negotiated maximum {IncomingPduLimit}.");
                    if (length < 6) throw Protocol(AbortReason.InvalidPduParameterValue, "P-DATA-TF without a PDV item.");
                    _pduRemaining = length;
                    break;
                case PduType.ReleaseRequest:
                    await ReadExactlyAsync((int)length, ct);
                    return (IncomingKind.ReleaseRequest, default);
                case PduType.ReleaseResponse:
                    await ReadExactlyAsync((int)length, ct);
                    return (IncomingKind.ReleaseResponse, default);
                default:
                    throw Protocol(AbortReason.UnexpectedPdu, $"Unexpected PDU type {type} during data transfer.");
            }
        }
        if (_pduRemaining < 6) throw Protocol(AbortReason.InvalidPduParameterValue, "Truncated PDV item in P-DATA-TF.");
        var header = await ReadExactlyAsync(6, ct);
        var itemLength = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (itemLength < 2 || itemLength > _pduRemaining - 4)
            throw Protocol(AbortReason.InvalidPduParameterValue, $"PDV item length {itemLength} does not fit its P-DATA-TF PDU.");
        _pduRemaining -= 4 + itemLength;
        _pdvRemaining = (int)(itemLength - 2);
        var control = header[5];
        return (IncomingKind.Pdv, new PdvHeader(header[4], (control & 1) != 0, (control & 2) != 0, _pdvRemaining));
    }

    /// <summary>Delivers the current PDV's data in the segments it arrives in; each segment is valid only during the callback.</summary>
    public async ValueTask ReadPdvDataAsync<TState>(TState state, Func<TState, ReadOnlySequence<byte>, CancellationToken, ValueTask> consume, CancellationToken ct)
    {
        while (_pdvRemaining > 0)
        {
            var result = await _reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.IsEmpty && result.IsCompleted) throw ConnectionClosed();
            var take = buffer.Slice(0, Math.Min(buffer.Length, _pdvRemaining));
            try
            {
                await consume(state, take, ct);
            }
            catch
            {
                _reader.AdvanceTo(take.Start, take.End);
                throw;
            }
            _reader.AdvanceTo(take.End);
            _pdvRemaining -= (int)take.Length;
        }
    }

    /// <summary>Discards the rest of the current PDV.</summary>
    public ValueTask SkipPdvDataAsync(CancellationToken ct) =>
        ReadPdvDataAsync(0, static (_, _, _) => ValueTask.CompletedTask, ct);

    private async ValueTask<(PduType Type, uint Length)> ReadPduHeaderAsync(CancellationToken ct)
    {
        var header = await ReadExactlyAsync(6, ct);
        var type = header[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        if (type is 0 or > 7) throw Protocol(AbortReason.UnrecognizedPdu, $"Unrecognized PDU type 0x{type:X2}.");
        if ((PduType)type == PduType.Abort)
        {
            if (length != 4) throw Protocol(AbortReason.InvalidPduParameterValue, "A-ABORT with a length other than 4.");
            var body = await ReadExactlyAsync(4, ct);
            var (source, reason) = AssociatePduCodec.DecodeAbort(body);
            throw new AssociationAbortedException(source, reason, $"Peer aborted the association (source={source}, reason={reason}).");
        }
        if ((PduType)type != PduType.DataTransfer && length > ControlPduCap)
            throw Protocol(AbortReason.InvalidPduParameterValue, $"{(PduType)type} PDU of {length} bytes exceeds the {ControlPduCap}-byte cap.");
        return ((PduType)type, length);
    }

    private async ValueTask<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
    {
        var result = await _reader.ReadAtLeastAsync(count, ct);
        var buffer = result.Buffer;
        if (buffer.Length < count)
        {
            _reader.AdvanceTo(buffer.Start, buffer.End);
            throw ConnectionClosed();
        }
        var bytes = buffer.Slice(0, count).ToArray();
        _reader.AdvanceTo(buffer.GetPosition(count));
        return bytes;
    }

    private static AssociationAbortedException ConnectionClosed() =>
        new(AbortSource.ServiceProvider, AbortReason.NotSpecified, "The peer closed the connection.");

    private static DicomProtocolException Protocol(AbortReason reason, string message) => new(reason, message);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { await _writer.CompleteAsync(); } catch (IOException) { } catch (ObjectDisposedException) { }
        try { await _reader.CompleteAsync(); } catch (IOException) { } catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        await _stream.DisposeAsync();
        _socket.Dispose();
        _writeLock.Dispose();
    }
}
