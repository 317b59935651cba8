using System.Buffers;
using System.Runtime.ExceptionServices;
using ServerlessImaging.Dicom.Networking.Dimse;

namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>A DIMSE command with the presentation context it arrived on.</summary>
public sealed record IncomingCommand(byte PresentationContextId, DimseCommand Command);

/// <summary>
/// An established association (either side). Sends and receives DIMSE messages, fragmenting to the peer's maximum PDU,
/// runs the DIMSE inactivity timer, and on any failure aborts and closes the connection before the error surfaces.
/// </summary>
public sealed class DicomAssociation : IAsyncDisposable
{
    private const int MaxCommandLength = 64 * 1024;
    private readonly UpperLayerConnection _connection;
    private readonly int _maxPdvData;
    private readonly Dictionary<byte, string> _acceptedSyntaxes = [];
    private int _messageId;
    private int _closed;

    private DicomAssociation(UpperLayerConnection connection, AssociateRequest request, AssociateAccept accept, AssociationOptions options, bool isRequestor)
    {
        _connection = connection;
        Request = request;
        Accept = accept;
        Options = options;
        IsRequestor = isRequestor;
        var peerMax = isRequestor ? accept.MaxPduLength : request.MaxPduLength;
        _maxPdvData = AssociationOptions.MaxPdvDataLength(peerMax);
        connection.IncomingPduLimit = isRequestor ? request.MaxPduLength : accept.MaxPduLength;
        foreach (var pc in accept.PresentationContexts)
            if (pc.Result == PresentationContextResult.Acceptance && pc.TransferSyntax is not null) _acceptedSyntaxes[pc.Id] = pc.TransferSyntax;
    }

    public AssociateRequest Request { get; }
    public AssociateAccept Accept { get; }
    public AssociationOptions Options { get; }
    public bool IsRequestor { get; }
    public bool IsOpen => Volatile.Read(ref _closed) == 0;
    /// <summary>Largest PDV data we put in one P-DATA-TF (derived from the peer's maximum PDU length).</summary>
    public int MaxPdvDataLength => _maxPdvData;
    public System.Net.EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    public ushort NextMessageId() => (ushort)(Interlocked.Increment(ref _messageId) & 0xFFFF);

    /// <summary>Connects, proposes <paramref name="request"/> and waits (ARTIM) for A-ASSOCIATE-AC or -RJ.</summary>
    public static async Task<DicomAssociation> ConnectAsync(string host, int port, AssociateRequest request, AssociationOptions? options = null, CancellationToken ct = default)
    {
        options ??= AssociationOptions.Default;
        using var artim = CancellationTokenSource.CreateLinkedTokenSource(ct);
        artim.CancelAfter(options.ArtimTimeout);
        UpperLayerConnection? connection = null;
        try
        {
            connection = await UpperLayerConnection.ConnectAsync(host, port, options, artim.Token);
            connection.IncomingPduLimit = request.MaxPduLength;
            await connection.WriteAsync(AssociatePduCodec.EncodeRequest(request), artim.Token);
            var (type, body) = await connection.ReadControlPduAsync(artim.Token);
            switch (type)
            {
                case PduType.AssociateAccept:
                    var accept = AssociatePduCodec.DecodeAccept(body);
                    var association = new DicomAssociation(connection, request, accept, options, isRequestor: true);
                    connection = null; // owned by the association now
                    return association;
                case PduType.AssociateReject:
                    var (result, source, reason) = AssociatePduCodec.DecodeReject(body);
                    throw new AssociationRejectedException(result, source, reason);
                default:
                    throw new DicomProtocolException(AbortReason.UnexpectedPdu, $"Expected A-ASSOCIATE-AC or -RJ, received {type}.");
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await AbortQuietlyAsync(connection, AbortReason.NotSpecified);
            throw new DicomTimeoutException(DicomTimer.Artim, options.ArtimTimeout);
        }
        catch (DicomProtocolException ex)
        {
            await AbortQuietlyAsync(connection, ex.Reason);
            throw;
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    /// <summary>Server side: reads A-ASSOCIATE-RQ within ARTIM and answers it. Returns null when the association was rejected.</summary>
    internal static async Task<DicomAssociation?> AcceptAsync(UpperLayerConnection connection, AssociationOptions options,
        Func<AssociateRequest, AssociationDecision> decide, CancellationToken ct)
    {
        using var artim = CancellationTokenSource.CreateLinkedTokenSource(ct);
        artim.CancelAfter(options.ArtimTimeout);
        try
        {
            var (type, body) = await connection.ReadControlPduAsync(artim.Token);
            if (type != PduType.AssociateRequest)
                throw new DicomProtocolException(AbortReason.UnexpectedPdu, $"Expected A-ASSOCIATE-RQ, received {type}.");
            var request = AssociatePduCodec.DecodeRequest(body);
            var decision = decide(request);
            if (decision.Accept is null)
            {
                await connection.WriteAsync(AssociatePduCodec.EncodeReject(decision.RejectResult, decision.RejectSource, decision.RejectReason), artim.Token);
                return null;
            }
            await connection.WriteAsync(AssociatePduCodec.EncodeAccept(decision.Accept), artim.Token);
            return new DicomAssociation(connection, request, decision.Accept, options, isRequestor: false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await AbortQuietlyAsync(connection, AbortReason.NotSpecified);
            throw new DicomTimeoutException(DicomTimer.Artim, options.ArtimTimeout);
        }
        catch (DicomProtocolException ex)
        {
            await AbortQuietlyAsync(connection, ex.Reason);
            throw;
        }
    }

    /// <summary>Transfer syntax accepted on a presentation context.</summary>
    public string TransferSyntaxOf(byte presentationContextId) =>
        _acceptedSyntaxes.TryGetValue(presentationContextId, out var ts) ? ts
            : throw new DicomProtocolException(AbortReason.InvalidPduParameterValue, $"Presentation context {presentationContextId} was not accepted.");

    public bool IsAccepted(byte presentationContextId) => _acceptedSyntaxes.ContainsKey(presentationContextId);

    /// <summary>Abstract syntax proposed for a presentation context.</summary>
    public string? AbstractSyntaxOf(byte presentationContextId) =>
        Request.PresentationContexts.FirstOrDefault(p => p.Id == presentationContextId)?.AbstractSyntax;

    /// <summary>The accepted presentation contexts for an abstract syntax, in proposal order.</summary>
    public IEnumerable<(byte Id, string TransferSyntax)> AcceptedContextsFor(string abstractSyntax) =>
        Request.PresentationContexts
            .Where(p => p.AbstractSyntax == abstractSyntax && _acceptedSyntaxes.ContainsKey(p.Id))
            .Select(p => (p.Id, _acceptedSyntaxes[p.Id]));

    public async ValueTask SendCommandAsync(byte pcid, DimseCommand command, CancellationToken ct)
    {
        var bytes = command.Encode();
        await GuardAsync(async token =>
        {
            using var writer = new PdvBatchWriter(_connection, pcid, _maxPdvData, batchBytes: 12 + Math.Min(_maxPdvData, bytes.Length));
            await writer.WriteCommandAsync(bytes, token);
            await writer.CompleteAsync(hasDataSet: false, token);
            return 0;
        }, null, ct);
    }

    public ValueTask SendDataSetAsync(byte pcid, ReadOnlyMemory<byte> data, CancellationToken ct) =>
        SendAsync(pcid, null, (data, (Stream?)null), static async (s, output, token) => await output.WriteAsync(s.data, token), ct);

    /// <summary>Streams a dataset from <paramref name="source"/> (its current position to the end) as PDVs, never holding more than one batch in memory.</summary>
    public ValueTask SendDataSetAsync(byte pcid, Stream source, CancellationToken ct) =>
        SendAsync(pcid, null, source, static (s, output, token) => CopyAsync(s, output, token), ct);

    /// <summary>
    /// Sends a command and the data set that follows it: the data set is produced by <paramref name="writeDataSet"/> into a
    /// write-only stream that frames PDVs as it goes (any length, nothing buffered beyond one batch). The command leaves in the
    /// same socket write as the first data.
    /// </summary>
    public ValueTask SendCommandAndDataSetAsync(byte pcid, DimseCommand command, Func<Stream, CancellationToken, ValueTask> writeDataSet, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        return SendAsync(pcid, command.Encode(), writeDataSet, static (w, output, token) => w(output, token), ct);
    }

    /// <summary>Sends a command followed by a data set read from <paramref name="source"/> (current position to the end).</summary>
    public ValueTask SendCommandAndDataSetAsync(byte pcid, DimseCommand command, Stream source, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        return SendAsync(pcid, command.Encode(), source, static (s, output, token) => CopyAsync(s, output, token), ct);
    }

    private async ValueTask SendAsync<TState>(byte pcid, byte[]? command, TState state, Func<TState, Stream, CancellationToken, ValueTask> produce, CancellationToken ct)
    {
        ExceptionDispatchInfo? producerFailure = null;
        await GuardAsync(async token =>
        {
            using var writer = new PdvBatchWriter(_connection, pcid, _maxPdvData);
            if (command is not null) await writer.WriteCommandAsync(command, token);
            try
            {
                await produce(state, writer, token);
            }
            catch (Exception ex) when (!writer.TransportFailed && ex is not OperationCanceledException)
            {
                // The data source failed (unreadable file, malformed element...). Nothing sent yet: the association is intact
                // and the message simply never existed. Otherwise the peer is mid-message and the association cannot go on.
                producerFailure = ExceptionDispatchInfo.Capture(ex);
                if (writer.HasSent) await AbortAsync(AbortSource.ServiceUser);
                return 0;
            }
            await writer.CompleteAsync(hasDataSet: true, token);
            return 0;
        }, null, ct);
        producerFailure?.Throw();
    }

    private static async ValueTask CopyAsync(Stream source, Stream output, CancellationToken ct)
    {
        // Large reads (few syscalls); the copy into the PDU batch is cheap next to a read or a send.
        var chunk = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            int read;
            // Files: a synchronous read (page cache, microseconds) instead of ReadAsync, which on Linux is a thread-pool hop.
            while ((read = source is FileStream ? source.Read(chunk) : await source.ReadAsync(chunk, ct)) > 0)
                await output.WriteAsync(chunk.AsMemory(0, read), ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// Waits for the next DIMSE command (DIMSE timer, or <paramref name="timeout"/>). Returns null when the peer requested release
    /// (we have answered A-RELEASE-RP and closed).
    /// </summary>
    public async ValueTask<IncomingCommand?> ReceiveCommandAsync(CancellationToken ct, TimeSpan? timeout = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        return await GuardAsync<IncomingCommand?>(async token =>
        {
            while (true)
            {
                var (kind, pdv) = await _connection.ReadNextAsync(token);
                if (kind == IncomingKind.ReleaseRequest)
                {
                    await _connection.WriteAsync(AssociatePduCodec.EncodeReleaseResponse(), token);
                    await CloseAsync();
                    return null;
                }
                if (kind == IncomingKind.ReleaseResponse)
                    throw new DicomProtocolException(AbortReason.UnexpectedPdu, "A-RELEASE-RP received without a release request.");
                if (!pdv.IsCommand)
                    throw new DicomProtocolException(AbortReason.UnexpectedPdu, "Data set fragment received where a command was expected.");
                if (buffer.WrittenCount + pdv.DataLength > MaxCommandLength)
                    throw new DicomProtocolException(AbortReason.InvalidPduParameterValue, "DIMSE command set larger than 64 KB.");
                await _connection.ReadPdvDataAsync(buffer, static (b, seq, _) =>
                {
                    foreach (var segment in seq) b.Write(segment.Span);
                    return ValueTask.CompletedTask;
                }, token);
                if (pdv.IsLast)
                    return new IncomingCommand(pdv.PresentationContextId, DimseCommand.Decode(buffer.WrittenSpan));
            }
        }, timeout ?? Options.DimseTimeout, ct);
    }

    /// <summary>Receives the data set following a command, delivering its bytes as they arrive (DIMSE timer restarted per PDV).</summary>
    public async ValueTask ReceiveDataSetAsync<TState>(byte pcid, TState state, Func<TState, ReadOnlySequence<byte>, CancellationToken, ValueTask> consume, CancellationToken ct)
    {
        await GuardAsync(async token =>
        {
            while (true)
            {
                var (kind, pdv) = await _connection.ReadNextAsync(token);
                if (kind != IncomingKind.Pdv || pdv.IsCommand)
                    throw new DicomProtocolException(AbortReason.UnexpectedPdu, "Expected a data set fragment.");
                if (pdv.PresentationContextId != pcid)
                    throw new DicomProtocolException(AbortReason.UnexpectedPduParameter, "Data set fragment on a different presentation context than its command.");
                await _connection.ReadPdvDataAsync(state, consume, token);
                if (pdv.IsLast) return 0;
                RestartTimer();
            }
        }, Options.DimseTimeout, ct);
    }

    /// <summary>Receives a data set fully into memory (for identifiers and small responses), capped at <paramref name="maxBytes"/>.</summary>
    public async ValueTask<byte[]> ReceiveDataSetAsync(byte pcid, CancellationToken ct, int maxBytes = 64 * 1024 * 1024)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        await ReceiveDataSetAsync(pcid, (buffer, maxBytes), static (s, seq, _) =>
        {
            if (s.buffer.WrittenCount + seq.Length > s.maxBytes)
                throw new DicomProtocolException(AbortReason.InvalidPduParameterValue, "In-memory data set exceeds its size cap.");
            foreach (var segment in seq) s.buffer.Write(segment.Span);
            return ValueTask.CompletedTask;
        }, ct);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Orderly release: A-RELEASE-RQ, wait (ARTIM) for A-RELEASE-RP, close.</summary>
    public async Task ReleaseAsync(CancellationToken ct = default)
    {
        if (!IsOpen) return;
        try
        {
            await GuardAsync(async token =>
            {
                await _connection.WriteAsync(AssociatePduCodec.EncodeReleaseRequest(), token);
                while (true)
                {
                    var (kind, _) = await _connection.ReadNextAsync(token);
                    if (kind == IncomingKind.ReleaseResponse) break;
                    if (kind == IncomingKind.ReleaseRequest)
                    {
                        // Release collision (PS3.8 7.2): the requestor answers RP after receiving RQ.
                        await _connection.WriteAsync(AssociatePduCodec.EncodeReleaseResponse(), token);
                        continue;
                    }
                    await _connection.SkipPdvDataAsync(token); // late data is discarded during release
                }
                return 0;
            }, Options.ArtimTimeout, ct, DicomTimer.Artim);
        }
        finally
        {
            await CloseAsync();
        }
    }

    /// <summary>Sends A-ABORT (best effort) and closes.</summary>
    public async ValueTask AbortAsync(AbortSource source = AbortSource.ServiceUser, AbortReason reason = AbortReason.NotSpecified)
    {
        if (!IsOpen) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _connection.WriteAsync(AssociatePduCodec.EncodeAbort(source, reason), cts.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // the peer may already be gone; closing is what matters
        }
        await CloseAsync();
    }

    public ValueTask DisposeAsync() => IsOpen ? AbortAsync() : ValueTask.CompletedTask;

    private async ValueTask CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        await _connection.DisposeAsync();
    }

    private CancellationTokenSource? _timer;

    private void RestartTimer()
    {
        var timer = _timer;
        if (timer is not null && _timerDuration is { } d) timer.CancelAfter(d);
    }

    private TimeSpan? _timerDuration;

    /// <summary>Runs one step under a timer; converts failures into abort + typed exception, so nothing stays open.</summary>
    private async ValueTask<T> GuardAsync<T>(Func<CancellationToken, ValueTask<T>> step, TimeSpan? timeout, CancellationToken ct, DicomTimer timerKind = DicomTimer.Dimse)
    {
        if (!IsOpen) throw new AssociationAbortedException(AbortSource.ServiceUser, AbortReason.NotSpecified, "The association is closed.");
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t)
        {
            timer.CancelAfter(t);
            _timer = timer;
            _timerDuration = t;
        }
        try
        {
            return await step(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && timeout is not null)
        {
            await AbortAsync(AbortSource.ServiceUser);
            throw new DicomTimeoutException(timerKind, timeout.Value);
        }
        catch (OperationCanceledException)
        {
            // Cancelled mid-PDU: the byte stream is no longer in a known state, so the association cannot continue.
            await AbortAsync(AbortSource.ServiceUser);
            throw;
        }
        catch (DicomProtocolException ex)
        {
            await AbortAsync(AbortSource.ServiceProvider, ex.Reason);
            throw;
        }
        catch (AssociationAbortedException)
        {
            await CloseAsync();
            throw;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            await CloseAsync();
            throw new AssociationAbortedException("Connection lost: " + ex.Message, ex);
        }
        finally
        {
            if (ReferenceEquals(_timer, timer)) { _timer = null; _timerDuration = null; }
        }
    }

    private static async ValueTask AbortQuietlyAsync(UpperLayerConnection? connection, AbortReason reason)
    {
        if (connection is null) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await connection.WriteAsync(AssociatePduCodec.EncodeAbort(AbortSource.ServiceProvider, reason), cts.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }
    }
}

/// <summary>An acceptor's answer to A-ASSOCIATE-RQ: an accept, or the reject fields.</summary>
public sealed record AssociationDecision(AssociateAccept? Accept, RejectResult RejectResult = RejectResult.RejectedPermanent,
    RejectSource RejectSource = RejectSource.ServiceUser, byte RejectReason = 1)
{
    public static AssociationDecision Reject(RejectReason reason, RejectResult result = RejectResult.RejectedPermanent) =>
        new(null, result, RejectSource.ServiceUser, (byte)reason);
}
