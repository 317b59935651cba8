using System.Net;
using System.Net.Sockets;

namespace ServerlessImaging.Testing.Network;

/// <summary>
/// A loopback TCP relay to a real service, so a test can make the shared Azurite (or a PACS) unreachable, back again,
/// or slow without touching the shared stack: disposing it cuts the service off, starting one again on the same port
/// brings it back, and a delay per forwarded chunk keeps a retrieval or a query certainly running while the test acts
/// on it (cancel, kill). Counts the connections it accepted, so a test can tell when a new one (a query) has begun.
/// </summary>
public sealed class LoopbackTcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly int _targetPort;
    private readonly TimeSpan _delay;
    private readonly Task _accepting;
    private int _accepted;

    /// <summary>Forwards <paramref name="listenPort"/> (0: any free port) to <paramref name="targetPort"/>, waiting <paramref name="delayPerChunk"/> before each chunk.</summary>
    public LoopbackTcpForwarder(int targetPort, TimeSpan delayPerChunk = default, int listenPort = 0)
    {
        _targetPort = targetPort;
        _delay = delayPerChunk;
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>A loopback port free right now (to start, stop and restart a forwarder on the same port).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = PumpAsync(inbound);
        }
    }

    private async Task PumpAsync(TcpClient inbound)
    {
        using (inbound)
        using (var outbound = new TcpClient())
        {
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                await Task.WhenAny(CopyAsync(inbound.GetStream(), outbound.GetStream()), CopyAsync(outbound.GetStream(), inbound.GetStream()));
            }
            catch (Exception)
            {
                // Connection ended.
            }
        }
    }

    private async Task CopyAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (_delay > TimeSpan.Zero)
            {
                await Task.Delay(_delay, _stop.Token);
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
