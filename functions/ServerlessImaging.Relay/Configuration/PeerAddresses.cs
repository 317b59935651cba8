using System.Net;
using System.Net.Sockets;

namespace ServerlessImaging.Relay.Configuration;

/// <summary>Parsing and loopback rules for <see cref="ScpSettings.AllowedPeerAddresses"/>, shared by the validator and the SCP.</summary>
public static class PeerAddresses
{
    /// <summary>An address (a one-address network) or a CIDR range whose host bits are zero.</summary>
    public static bool TryParse(string? entry, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var text = entry.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            // Set host bits (10.0.0.1/8) are refused, not masked away: a range written that way is most likely a typo.
            return IPNetwork.TryParse(text, out network) &&
                IPAddress.TryParse(text[..slash], out var written) && network.BaseAddress.Equals(written);
        }

        if (!IPAddress.TryParse(text, out var address))
        {
            return false;
        }

        network = Exactly(address);
        return true;
    }

    /// <summary>The network holding exactly <paramref name="address"/> (IPv4-mapped IPv6 taken as IPv4, as peers are checked).</summary>
    public static IPNetwork Exactly(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
    }

    /// <summary>Whether every address of <paramref name="network"/> is a loopback address (so a loopback listener can serve it).</summary>
    public static bool IsLoopbackOnly(IPNetwork network) =>
        network.BaseAddress.AddressFamily == AddressFamily.InterNetwork
            ? IPAddress.IsLoopback(network.BaseAddress) && network.PrefixLength >= 8
            : network.BaseAddress.Equals(IPAddress.IPv6Loopback) && network.PrefixLength == 128;
}
