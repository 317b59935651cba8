using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Hosting;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// The relay's C-STORE SCP (C-MOVE destination). One listener for the process; each arriving instance is
/// routed, by SOP Instance UID, to the retrieval that expects it (from its image-level C-FIND). Instances
/// nobody expects are refused. Only the PACS gets in: a connection from another address is closed before a
/// byte is read, an association from another calling AE title is rejected (<see cref="ScpAccessPolicy"/>).
/// </summary>
public sealed class MoveDestination : IInstanceSink, IAsyncDisposable
{
    private readonly ConcurrentDictionary<StagingSink, byte> _retrievals = new();
    private readonly RelayOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<MoveDestination> _logger;
    private DicomServer? _server;
    private X509Certificate? _tlsCertificate;

    /// <summary>Creates the destination (not listening yet).</summary>
    public MoveDestination(RelayOptions options, RelayMetrics metrics, ILogger<MoveDestination> logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The address and port listened on, once started.</summary>
    public IPEndPoint? LocalEndPoint => _server?.LocalEndPoint;

    /// <summary>
    /// Resolves who may connect, takes the socket systemd passed (<c>si-relay.socket</c>) or binds
    /// <c>Relay:Scp:BindAddress</c>:<c>Port</c>, and starts listening (idempotent). Configuration problems throw
    /// <see cref="RelayConfigurationException"/>.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            return;
        }

        var policy = await ScpAccessPolicy.ResolveAsync(_options, cancellationToken);
        var tls = LoadTls(_options.Scp.Tls);
        _tlsCertificate = tls?.ServerCertificate;
        var inherited = SystemdSocketActivation.TakeListener();
        try
        {
            var listening = inherited?.LocalEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.Parse(_options.Scp.BindAddress), _options.Scp.Port);
            if (listening.Port != _options.Scp.Port)
            {
                // The PACS is configured with Relay:Scp:Port; a socket unit on another port would never see it.
                throw new RelayConfigurationException($"si-relay.socket listens on port {listening.Port} but Relay:Scp:Port is {_options.Scp.Port}: make them the same.");
            }

            policy.EnsureReachableFrom(listening.Address);
            _server = DicomServer.Start(new DicomServerOptions
            {
                AeTitle = _options.Scp.AeTitle,
                Port = listening.Port,
                BindAddress = listening.Address,
                Listener = inherited,
                AllowedPeerNetworks = policy.Peers,
                AllowedCallingAeTitles = policy.CallingAeTitles,
                Association = tls is null ? AssociationOptions.Default : new AssociationOptions { TlsServer = tls },
            }, this);
        }
        catch (SocketException ex)
        {
            inherited?.Dispose();
            throw new RelayConfigurationException(
                $"The C-STORE SCP cannot listen on {_options.Scp.BindAddress}:{_options.Scp.Port} ({ex.SocketErrorCode}): the port is taken, the address is not this host's, " +
                "or the service may not bind (the shipped unit has SocketBindDeny=any: install si-relay.socket).", ex);
        }
        catch
        {
            inherited?.Dispose();
            throw;
        }

        _server.AssociationFailed += ex => _logger.LogWarning("C-STORE SCP association failed: {Error}", ex.GetType().Name);
        _server.ConnectionRefused += OnConnectionRefused;
        _server.AssociationRejected += OnAssociationRejected;
        _logger.LogInformation("C-STORE SCP {AeTitle} listening on {Endpoint}{Source}{Tls}, accepting {Policy}",
            _options.Scp.AeTitle, _server.LocalEndPoint, inherited is null ? string.Empty : " (socket from systemd)", tls is null ? string.Empty : " over TLS", policy);
    }

    internal IDisposable Register(StagingSink sink)
    {
        _retrievals[sink] = 0;
        return new Registration(this, sink);
    }

    /// <inheritdoc />
    public ValueTask<IInstanceWriter> OpenAsync(IncomingInstance instance, CancellationToken ct)
    {
        foreach (var sink in _retrievals.Keys)
        {
            if (sink.Expects(instance.SopInstanceUid))
            {
                return sink.OpenAsync(instance, ct);
            }
        }

        throw new InstanceRejectedException(0xA801, "No running retrieval expects this instance.");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Stopped by the hosted service and disposed by the container: close once.
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.DisposeAsync();
        }

        Interlocked.Exchange(ref _tlsCertificate, null)?.Dispose();
    }

    private static SslServerAuthenticationOptions? LoadTls(ScpTlsSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.CertificatePath))
        {
            return null;
        }

        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(settings.CertificatePath, string.IsNullOrWhiteSpace(settings.KeyPath) ? null : settings.KeyPath);
            // A PEM key is ephemeral; SslStream wants a key it can hand to the platform (Windows refuses ephemeral ones).
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            return new SslServerAuthenticationOptions { ServerCertificate = certificate, ClientCertificateRequired = false };
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new RelayConfigurationException($"Relay:Scp:Tls:CertificatePath/KeyPath could not be loaded as a PEM certificate and key ({ex.GetType().Name}).", ex);
        }
    }

    private void OnConnectionRefused(IPEndPoint peer)
    {
        _metrics.ScpRefused("peer_address");
        _logger.LogWarning("C-STORE SCP closed a connection from {Peer} unread: not an allowed PACS address (Relay:Scp:AllowedPeerAddresses)", peer.Address);
    }

    private void OnAssociationRejected(RejectedAssociation rejected)
    {
        var reason = rejected.Reason switch
        {
            RejectReason.CallingAeNotRecognized => "calling_ae",
            RejectReason.CalledAeNotRecognized => "called_ae",
            RejectReason.ApplicationContextNotSupported => "application_context",
            _ => "other",
        };
        _metrics.ScpRefused(reason);

        // AE titles are device names, not patient data; made printable so a hostile peer cannot forge log lines.
        _logger.LogWarning("C-STORE SCP rejected an association from {Peer}: calling AE {CallingAe}, called AE {CalledAe} ({Reason})",
            rejected.Peer?.Address, Printable(rejected.CallingAeTitle), Printable(rejected.CalledAeTitle), reason);
    }

    private static string Printable(string aeTitle) =>
        new([.. aeTitle.Take(16).Select(c => c is >= ' ' and <= '~' ? c : '?')]);

    private sealed class Registration(MoveDestination owner, StagingSink sink) : IDisposable
    {
        public void Dispose() => owner._retrievals.TryRemove(sink, out _);
    }
}
