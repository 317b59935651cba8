using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Server;

/// <summary>
/// A C-STORE and C-ECHO SCP: accepts associations (checking AE titles, SOP classes and transfer syntaxes), streams each received
/// instance into an <see cref="IInstanceSink"/> and reports every outcome through <see cref="InstanceReceived"/>.
/// </summary>
public sealed class DicomServer : IAsyncDisposable
{
    private readonly DicomServerOptions _options;
    private readonly IInstanceSink _sink;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots;
    private readonly Task _acceptLoop;
    private readonly HashSet<Task> _sessions = [];
    private readonly Lock _sessionsLock = new();

    private DicomServer(DicomServerOptions options, IInstanceSink sink)
    {
        _options = options;
        _sink = sink;
        _slots = new SemaphoreSlim(options.MaxConcurrentAssociations);
        _listener = options.Listener ?? Listen(options.BindAddress, options.Port);
        LocalEndPoint = _listener.LocalEndPoint as IPEndPoint
            ?? throw new ArgumentException("The listener socket must be bound to an IP endpoint.", nameof(options));
        Port = LocalEndPoint.Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Raised after each C-STORE with what was answered (also for failures).</summary>
    public event Action<StoreOutcome>? InstanceReceived;

    /// <summary>Raised when an association ends with an error (abort, timeout, protocol violation).</summary>
    public event Action<Exception>? AssociationFailed;

    /// <summary>Raised when an association request is answered A-ASSOCIATE-RJ (AE titles or application context).</summary>
    public event Action<RejectedAssociation>? AssociationRejected;

    /// <summary>Raised when a connection from an address outside <see cref="DicomServerOptions.AllowedPeerNetworks"/> is closed unread.</summary>
    public event Action<IPEndPoint>? ConnectionRefused;

    public int Port { get; }
    /// <summary>Address and port actually listened on.</summary>
    public IPEndPoint LocalEndPoint { get; }
    public string AeTitle => _options.AeTitle;

    public static DicomServer Start(DicomServerOptions options, IInstanceSink sink) => new(options, sink);

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }
            var peer = socket.RemoteEndPoint as IPEndPoint;
            if (_options.AllowedPeerNetworks is { } allowed && (peer is null || !IsAllowedPeer(allowed, peer.Address)))
            {
                // Closed before reading anything: an unexpected peer gets no parser to talk to, and takes no association slot.
                socket.Dispose();
                if (peer is not null) ConnectionRefused?.Invoke(peer);
                continue;
            }
            if (!_slots.Wait(0))
            {
                // Over capacity: answer transient "local limit exceeded" instead of letting the peer time out.
                _ = RejectBusyAsync(socket);
                continue;
            }
            var session = Task.Run(() => RunSessionAsync(socket));
            lock (_sessionsLock) _sessions.Add(session);
            _ = session.ContinueWith(t => { lock (_sessionsLock) _sessions.Remove(t); _slots.Release(); }, TaskScheduler.Default);
        }
    }

    private async Task RejectBusyAsync(Socket socket)
    {
        await using var connection = await UpperLayerConnection.WrapAsync(socket, _options.Association, isServer: true, _stopping.Token);
        try
        {
            await DicomAssociation.AcceptAsync(connection, _options.Association,
                _ => new AssociationDecision(null, RejectResult.RejectedTransient, RejectSource.ServiceProviderPresentation, 2), _stopping.Token);
        }
        catch (DicomNetworkException) { }
        catch (OperationCanceledException) { }
    }

    private async Task RunSessionAsync(Socket socket)
    {
        var peer = socket.RemoteEndPoint as IPEndPoint;
        UpperLayerConnection? connection = null;
        DicomAssociation? association = null;
        try
        {
            connection = await UpperLayerConnection.WrapAsync(socket, _options.Association, isServer: true, _stopping.Token);
            AssociateRequest? rejected = null;
            AssociationDecision? decision = null;
            association = await DicomAssociation.AcceptAsync(connection, _options.Association, rq =>
            {
                decision = Negotiate(rq);
                if (decision.Accept is null) rejected = rq;
                return decision;
            }, _stopping.Token);
            if (association is null)
            {
                // Rejected (the A-ASSOCIATE-RJ is already sent); the connection is closed below.
                if (rejected is not null && decision is not null)
                    AssociationRejected?.Invoke(new RejectedAssociation(peer, rejected.CallingAeTitle, rejected.CalledAeTitle, (RejectReason)decision.RejectReason));
                return;
            }
            while (true)
            {
                var incoming = await association.ReceiveCommandAsync(_stopping.Token);
                if (incoming is null) return; // released
                switch (incoming.Command.Field)
                {
                    case CommandField.CEchoRequest:
                        await association.SendCommandAsync(incoming.PresentationContextId, new DimseCommand
                        {
                            Field = CommandField.CEchoResponse,
                            MessageIdBeingRespondedTo = incoming.Command.MessageId,
                            AffectedSopClassUid = DicomUids.Verification,
                            HasDataSet = false,
                            Status = DimseStatus.Success,
                        }, _stopping.Token);
                        break;
                    case CommandField.CStoreRequest:
                        var outcome = await StoreRequestHandler.HandleAsync(association, incoming, _sink, _stopping.Token);
                        InstanceReceived?.Invoke(outcome);
                        break;
                    default:
                        throw new DicomProtocolException(AbortReason.UnexpectedPduParameter, $"This SCP does not perform {incoming.Command.Field}.");
                }
            }
        }
        catch (Exception ex) when (ex is DicomNetworkException or OperationCanceledException or IOException or SocketException)
        {
            if (!_stopping.IsCancellationRequested) AssociationFailed?.Invoke(ex);
        }
        finally
        {
            if (association is not null) await association.DisposeAsync();
            else if (connection is not null) await connection.DisposeAsync();
            else socket.Dispose();
        }
    }

    private static Socket Listen(IPAddress address, int port)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(64);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private static bool IsAllowedPeer(IReadOnlyCollection<IPNetwork> allowed, IPAddress address)
    {
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; the allow-list is written in IPv4.
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var network in allowed)
            if (network.Contains(address)) return true;
        return false;
    }

    internal AssociationDecision Negotiate(AssociateRequest rq)
    {
        if (rq.ApplicationContext != DicomUids.ApplicationContext)
            return AssociationDecision.Reject(RejectReason.ApplicationContextNotSupported);
        if (_options.RequireCalledAeTitle && !string.Equals(rq.CalledAeTitle, _options.AeTitle, StringComparison.Ordinal))
            return AssociationDecision.Reject(RejectReason.CalledAeNotRecognized);
        if (_options.AllowedCallingAeTitles is { } allowed && !allowed.Contains(rq.CallingAeTitle))
            return AssociationDecision.Reject(RejectReason.CallingAeNotRecognized);

        var answers = new List<PresentationContextAnswer>(rq.PresentationContexts.Count);
        foreach (var pc in rq.PresentationContexts)
        {
            var supported = pc.AbstractSyntax == DicomUids.Verification || _options.AcceptedSopClasses.Contains(pc.AbstractSyntax);
            if (!supported)
            {
                answers.Add(new PresentationContextAnswer(pc.Id, PresentationContextResult.AbstractSyntaxNotSupported, null));
                continue;
            }
            var syntax = pc.TransferSyntaxes.FirstOrDefault(_options.AcceptedTransferSyntaxes.Contains);
            answers.Add(syntax is null
                ? new PresentationContextAnswer(pc.Id, PresentationContextResult.TransferSyntaxesNotSupported, null)
                : new PresentationContextAnswer(pc.Id, PresentationContextResult.Acceptance, syntax));
        }
        return new AssociationDecision(new AssociateAccept
        {
            CalledAeTitle = rq.CalledAeTitle,
            CallingAeTitle = rq.CallingAeTitle,
            PresentationContexts = answers,
            MaxPduLength = _options.Association.MaxPduLength,
            // We only act as SCP for what is proposed to us; agree to the requestor being SCU.
            RoleSelections = [.. rq.RoleSelections.Select(r => new RoleSelection(r.SopClassUid, r.ScuRole, false))],
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        try { await _acceptLoop; } catch (OperationCanceledException) { }
        Task[] sessions;
        lock (_sessionsLock) sessions = [.. _sessions];
        await Task.WhenAll(sessions).ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
        // _slots is left to the GC: session continuations may still release it after this point.
    }
}

/// <summary>An association request the server answered with A-ASSOCIATE-RJ: who asked, and why it was refused.</summary>
public sealed record RejectedAssociation(IPEndPoint? Peer, string CallingAeTitle, string CalledAeTitle, RejectReason Reason);
