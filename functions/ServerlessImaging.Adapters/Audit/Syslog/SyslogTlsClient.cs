using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace ServerlessImaging.Adapters.Audit.Syslog;

/// <summary>Where and how to reach the syslog collector (a SIEM's ATNA audit record repository).</summary>
public sealed record SyslogTlsOptions
{
    /// <summary>Collector host name or address.</summary>
    public required string Host { get; init; }

    /// <summary>Collector port (6514 is syslog over TLS's registered port).</summary>
    public int Port { get; init; } = 6514;

    /// <summary>The CA(s) the collector's certificate must chain to; the machine's trust store is not used.</summary>
    public required X509Certificate2Collection TrustedCertificateAuthorities { get; init; }

    /// <summary>The name the collector's certificate must carry; defaults to <see cref="Host"/>.</summary>
    public string? TargetName { get; init; }

    /// <summary>Our certificate (with its private key), for collectors that authenticate their senders.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Longest wait for a connection and its TLS handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait after a failed attempt; doubled on each further failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between two attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait, after our side closed, for the collector to close a confirmed batch's connection (<see cref="SyslogTlsClient.SendConfirmedAsync"/>).</summary>
    public TimeSpan ConfirmTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Check the collector certificate's revocation online (off by default: private collector CAs rarely publish CRLs).</summary>
    public bool CheckRevocation { get; init; }

    /// <summary>Every certificate of a PEM file (the collector's CA bundle).</summary>
    public static X509Certificate2Collection LoadCertificateAuthorities(string pemPath)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(pemPath);
        return authorities.Count > 0 ? authorities : throw new InvalidDataException($"No certificate in {pemPath}.");
    }
}

/// <summary>The collector's certificate was refused: retrying cannot help until the configuration or the collector changes.</summary>
public sealed class SyslogCollectorUntrustedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SyslogCollectorUntrustedException()
        : base("The syslog collector's certificate is not trusted.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SyslogCollectorUntrustedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SyslogCollectorUntrustedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Sends syslog messages to a collector over TLS (RFC 5425): TLS 1.2 or 1.3, the collector's certificate checked against
/// the configured CA only, octet-counting framing. One connection, opened on first use and reopened after a failure
/// (with doubling delays) until the send succeeds or is cancelled. Sends are serialised.
/// <para>
/// Delivery is what TCP gives: a message is written when the kernel took it. An RFC 5425 collector never sends us
/// application data, so a read loop runs on each connection: it consumes what TLS itself sends (TLS 1.3 session tickets)
/// and marks the connection closed on the collector's close_notify, FIN or reset. A send checks that mark (and the socket)
/// before writing and reconnects rather than write into a dead connection. A collector dying in the instant after that
/// check can still lose what was in flight; the export pipeline that uses this client resends from its cursor.
/// </para>
/// Logs name the collector and the error type, never a message's content.
/// </summary>
public sealed partial class SyslogTlsClient(SyslogTlsOptions options, ILogger<SyslogTlsClient> logger, TimeProvider? time = null) : IAsyncDisposable
{
    private readonly TimeProvider time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim gate = new(1, 1);
    private Connection? connection;
    private bool disposed;

    /// <summary>Connections opened so far (the first one included).</summary>
    public int Connections { get; private set; }

    /// <summary>Sends one RFC 5424 message (framed here); retries through reconnections until written or cancelled.</summary>
    /// <exception cref="SyslogCollectorUntrustedException">The collector's certificate is refused (not retried).</exception>
    public Task SendAsync(ReadOnlyMemory<byte> syslogMessage, CancellationToken cancellationToken) =>
        SendManyAsync([syslogMessage], cancellationToken);

    /// <summary>Sends messages in order, each framed; after a failure, resends from the first message not yet written.</summary>
    /// <exception cref="SyslogCollectorUntrustedException">The collector's certificate is refused (not retried).</exception>
    public async Task SendManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> syslogMessages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(syslogMessages);
        ObjectDisposedException.ThrowIf(disposed, this);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var next = 0;
            var delay = options.InitialReconnectDelay;
            var failures = 0;
            while (next < syslogMessages.Count)
            {
                try
                {
                    var open = await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
                    while (next < syslogMessages.Count)
                    {
                        if (open.WentAway())
                        {
                            throw new IOException("The collector closed the connection.");
                        }

                        await open.Tls.WriteAsync(SyslogMessage.Frame(syslogMessages[next].Span), cancellationToken).ConfigureAwait(false);
                        await open.Tls.FlushAsync(cancellationToken).ConfigureAwait(false);
                        next++;
                    }
                }
                catch (OperationCanceledException)
                {
                    // A write cut short may have left half a frame: that connection cannot carry another one.
                    Disconnect();
                    throw;
                }
                catch (AuthenticationException ex)
                {
                    Disconnect();
                    LogUntrusted(logger, options.Host, options.Port, ex.GetType().Name);
                    throw new SyslogCollectorUntrustedException($"The syslog collector {options.Host}:{options.Port} failed TLS authentication.", ex);
                }
                catch (Exception ex) when (ex is IOException or SocketException or TimeoutException)
                {
                    Disconnect();
                    failures++;
                    LogSendFailed(logger, options.Host, options.Port, failures, ex.GetType().Name, delay.TotalMilliseconds);
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Sends messages in order over a connection of their own, then confirms them: RFC 5425 has no acknowledgement, so
    /// we close our side (TLS close_notify, then TCP FIN) and read until the collector closes too. A collector only sees
    /// our end of stream after it has read every byte before it, so its close says it took the whole batch. One attempt,
    /// no retry: any failure throws and the caller (the export pipeline, which resends from its cursor) decides.
    /// </summary>
    /// <exception cref="SyslogCollectorUntrustedException">The collector's certificate is refused.</exception>
    /// <exception cref="IOException">The connection failed or closed early (or any <see cref="SocketException"/>, <see cref="TimeoutException"/>).</exception>
    public async Task SendConfirmedAsync(IReadOnlyList<ReadOnlyMemory<byte>> syslogMessages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(syslogMessages);
        ObjectDisposedException.ThrowIf(disposed, this);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Connection? batch = null;
        try
        {
            batch = await ConnectAsync(cancellationToken).ConfigureAwait(false);

            // Frames gathered into writes of about 64 KiB: a batch is hundreds of small messages, one TLS record each would cost.
            using var pending = new MemoryStream();
            for (var i = 0; i < syslogMessages.Count; i++)
            {
                pending.Write(SyslogMessage.Frame(syslogMessages[i].Span));
                if (pending.Length >= 64 * 1024 || i == syslogMessages.Count - 1)
                {
                    if (batch.WentAway())
                    {
                        throw new IOException("The collector closed the connection.");
                    }

                    await batch.Tls.WriteAsync(pending.GetBuffer().AsMemory(0, (int)pending.Length), cancellationToken).ConfigureAwait(false);
                    pending.SetLength(0);
                }
            }

            await batch.Tls.FlushAsync(cancellationToken).ConfigureAwait(false);

            // A close that came before our own (the collector stopping mid-batch) confirms nothing.
            if (batch.Ended.IsCompleted)
            {
                throw new IOException("The collector closed the connection before the batch ended.");
            }

            await batch.Tls.ShutdownAsync().ConfigureAwait(false);
            batch.ShutdownSend();
            try
            {
                await batch.Ended.WaitAsync(options.ConfirmTimeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The syslog collector {options.Host}:{options.Port} did not close a batch's connection within {options.ConfirmTimeout}.");
            }

            // Closed by the collector without error (close_notify or FIN, not a reset) is the confirmation.
            if (batch.EndedInError || batch.PendingSocketError())
            {
                throw new IOException("The collector reset the connection before confirming the batch.");
            }
        }
        catch (AuthenticationException ex)
        {
            LogUntrusted(logger, options.Host, options.Port, ex.GetType().Name);
            throw new SyslogCollectorUntrustedException($"The syslog collector {options.Host}:{options.Port} failed TLS authentication.", ex);
        }
        finally
        {
            batch?.Dispose();
            gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            disposed = true;
            if (connection is { } open && !open.WentAway())
            {
                try
                {
                    await open.Tls.ShutdownAsync().ConfigureAwait(false); // a TLS close_notify, so the collector sees a clean end
                }
#pragma warning disable CA1031 // Best effort on the way out: the connection may already be gone.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            Disconnect();
        }
        finally
        {
            gate.Release();
            gate.Dispose();
        }
    }

    private async Task<Connection> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            return connection;
        }

        connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var client = new TcpClient { NoDelay = true };
        SslStream? stream = null;
        try
        {
            try
            {
                await client.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
                stream = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
                await stream.AuthenticateAsClientAsync(ClientAuthentication(), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No TLS connection to {options.Host}:{options.Port} within {options.ConnectTimeout}.");
            }

            var opened = new Connection(client, stream);
            Connections++;
            LogConnected(logger, options.Host, options.Port, stream.SslProtocol.ToString());
            return opened;
        }
        catch
        {
            stream?.Dispose();
            client.Dispose();
            throw;
        }
    }

    private SslClientAuthenticationOptions ClientAuthentication()
    {
        var chainPolicy = new X509ChainPolicy
        {
            // Only the configured CA: a certificate the machine happens to trust is not the collector we were given.
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = options.CheckRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
        };
        chainPolicy.CustomTrustStore.AddRange(options.TrustedCertificateAuthorities);
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = options.TargetName ?? options.Host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateChainPolicy = chainPolicy,
            CertificateRevocationCheckMode = options.CheckRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
        };
        if (options.ClientCertificate is { } certificate)
        {
            authentication.ClientCertificates = [certificate];
        }

        return authentication;
    }

    private void Disconnect()
    {
        connection?.Dispose();
        connection = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to the syslog collector {Host}:{Port} ({Protocol})")]
    private static partial void LogConnected(ILogger logger, string host, int port, string protocol);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending to the syslog collector {Host}:{Port} failed ({Failures} in a row, {ErrorType}); reconnecting in {DelayMs} ms")]
    private static partial void LogSendFailed(ILogger logger, string host, int port, int failures, string errorType, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The syslog collector {Host}:{Port} failed TLS authentication ({ErrorType}): not retried")]
    private static partial void LogUntrusted(ILogger logger, string host, int port, string errorType);

    /// <summary>One TLS connection and the read loop that watches it.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly TcpClient tcp;
        private volatile bool closed;

        public Connection(TcpClient tcp, SslStream tls)
        {
            this.tcp = tcp;
            Tls = tls;
            Ended = WatchAsync();
        }

        public SslStream Tls { get; }

        /// <summary>Completes when the read loop ends: the collector closed (or reset) the connection, or we disposed it.</summary>
        public Task Ended { get; }

        /// <summary>The read loop ended on an error (a reset, a TLS failure) rather than a clean end of stream.</summary>
        public bool EndedInError { get; private set; }

        /// <summary>A reset that arrived after the collector's end of stream (it closed while our last bytes were in flight).</summary>
        public bool PendingSocketError()
        {
            try
            {
                return tcp.Client.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is int error && error != 0;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }

        /// <summary>Sends our FIN after the TLS close_notify, for collectors that wait for the TCP end of stream.</summary>
        public void ShutdownSend() => tcp.Client.Shutdown(SocketShutdown.Send);

        /// <summary>The collector closed or reset the connection (seen by the read loop, or by the socket right now).</summary>
        public bool WentAway()
        {
            if (closed)
            {
                return true;
            }

            try
            {
                // The read loop drains whatever arrives, so readable with nothing to read is an end of stream.
                var socket = tcp.Client;
                return (socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0) || socket.Poll(0, SelectMode.SelectError);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }

        public void Dispose()
        {
            closed = true;
            Tls.Dispose();
            tcp.Dispose();
        }

        // A concurrent read alongside our writes is allowed on SslStream; what it reads (if anything) is not ours to use.
        private async Task WatchAsync()
        {
            var buffer = new byte[512];
            try
            {
                while (await Tls.ReadAsync(buffer).ConfigureAwait(false) > 0)
                {
                }
            }
#pragma warning disable CA1031 // Any end of the read loop (close_notify, FIN, reset, our own dispose) means the same: closed.
            catch (Exception)
#pragma warning restore CA1031
            {
                EndedInError = true;
            }

            closed = true;
        }
    }
}
