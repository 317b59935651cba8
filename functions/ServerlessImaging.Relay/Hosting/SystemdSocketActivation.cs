using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>
/// The listening socket systemd hands over when <c>si-relay.socket</c> is installed (the <c>LISTEN_PID</c>/<c>LISTEN_FDS</c>
/// protocol of sd_listen_fds(3)). Why bother: IPAddressAllow/IPAddressDeny on the socket unit filter only the connections
/// accepted on that socket, so the PACS-only rule applies to the SCP while the relay's own outbound HTTPS to Azure is not
/// filtered; the same rules on the service would cut Azure off.
/// </summary>
public static class SystemdSocketActivation
{
    private const int FirstPassedDescriptor = 3; // SD_LISTEN_FDS_START

    /// <summary>The passed socket, or null when systemd passed none to this process.</summary>
    public static Socket? TakeListener()
    {
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (pid is null || count is null)
        {
            return null;
        }

        // Taken once: a child process must not believe the descriptors are its own (sd_listen_fds does the same).
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var forPid) || forPid != Environment.ProcessId ||
            !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var descriptors) || descriptors == 0)
        {
            return null;
        }

        if (descriptors != 1)
        {
            throw new RelayConfigurationException($"systemd passed {descriptors} sockets; the relay listens on one (a single ListenStream= in si-relay.socket).");
        }

        var socket = new Socket(new SafeSocketHandle(FirstPassedDescriptor, ownsHandle: true));
        if (socket.SocketType != SocketType.Stream || socket.LocalEndPoint is not IPEndPoint)
        {
            socket.Dispose();
            throw new RelayConfigurationException("The socket systemd passed is not a TCP socket (si-relay.socket needs ListenStream=<address>:<port>).");
        }

        return socket;
    }
}
