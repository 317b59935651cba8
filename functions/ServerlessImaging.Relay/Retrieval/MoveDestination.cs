using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// The relay's C-STORE SCP (C-MOVE destination). One listener for the process; each arriving instance is
/// routed, by SOP Instance UID, to the retrieval that expects it (from its image-level C-FIND). Instances
/// nobody expects are refused. Accepts associations only from the PACS's AE title.
/// </summary>
public sealed class MoveDestination : IInstanceSink, IAsyncDisposable
{
    private readonly ConcurrentDictionary<StagingSink, byte> _retrievals = new();
    private readonly RelayOptions _options;
    private readonly ILogger<MoveDestination> _logger;
    private DicomServer? _server;

    /// <summary>Creates the destination (not listening yet).</summary>
    public MoveDestination(RelayOptions options, ILogger<MoveDestination> logger)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>Starts listening (idempotent).</summary>
    public void Start()
    {
        if (_server is not null)
        {
            return;
        }

        _server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = _options.Scp.AeTitle,
            Port = _options.Scp.Port,
            BindAddress = IPAddress.Parse(_options.Scp.BindAddress),
            AllowedCallingAeTitles = new HashSet<string>(StringComparer.Ordinal) { _options.Pacs.AeTitle },
        }, this);
        _server.AssociationFailed += ex => _logger.LogWarning("C-STORE SCP association failed: {Error}", ex.GetType().Name);
        _logger.LogInformation("C-STORE SCP {AeTitle} listening on port {Port}", _options.Scp.AeTitle, _server.Port);
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
    }

    private sealed class Registration(MoveDestination owner, StagingSink sink) : IDisposable
    {
        public void Dispose() => owner._retrievals.TryRemove(sink, out _);
    }
}
