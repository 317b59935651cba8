using System.Net;
using System.Net.Sockets;

namespace ServerlessImaging.Testing.Network;

/// <summary>
/// A loopback TCP relay to a real service that delays every chunk it forwards: makes the real Azurite (or a PACS) slow
/// so a retrieval or a query is certainly still running when a test acts on it (cancel, kill), without touching the
/// shared stack. Counts the connections it accepted, so a test can tell when a new one (a query) has begun.
/// </summary>
public sealed class SlowTcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _targetPort;
    private readonly TimeSpan _delay;
    private readonly Task _accepting;
    private int _accepted;

    public SlowTcpForwarder(int targetPort, TimeSpan delayPerChunk)
    {
        _targetPort = targetPort;
        _delay = delayPerChunk;
        _listener.Start();
        _accepting = AcceptAsync();
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
            await Task.Delay(_delay, _stop.Token);
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
