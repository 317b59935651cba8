using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// Who may associate with the relay's C-STORE SCP: the PACS's addresses (configured, or what <c>Relay:Pacs:Host</c>
/// resolves to at start) and its calling AE title(s). Resolved once: a PACS that moves needs a restart or an explicit list.
/// </summary>
internal sealed class ScpAccessPolicy
{
    private ScpAccessPolicy(IReadOnlyList<IPNetwork> peers, IReadOnlySet<string> callingAeTitles, bool fromPacsHost)
    {
        Peers = peers;
        CallingAeTitles = callingAeTitles;
        FromPacsHost = fromPacsHost;
    }

    /// <summary>Networks a peer must be in.</summary>
    public IReadOnlyList<IPNetwork> Peers { get; }

    /// <summary>Calling AE titles accepted.</summary>
    public IReadOnlySet<string> CallingAeTitles { get; }

    /// <summary>Whether <see cref="Peers"/> came from resolving <c>Relay:Pacs:Host</c> (no explicit list).</summary>
    public bool FromPacsHost { get; }

    /// <summary>Builds the policy; resolves the PACS host when no address list is configured.</summary>
    public static async Task<ScpAccessPolicy> ResolveAsync(RelayOptions options, CancellationToken cancellationToken)
    {
        var scp = options.Scp;
        var callingAeTitles = new HashSet<string>(
            scp.AllowedCallingAeTitles.Count > 0 ? scp.AllowedCallingAeTitles.Select(a => a.Trim()) : [options.Pacs.AeTitle],
            StringComparer.Ordinal);
        if (scp.AllowedPeerAddresses.Count > 0)
        {
            var listed = new List<IPNetwork>();
            foreach (var entry in scp.AllowedPeerAddresses)
            {
                // Validated at start already; re-checked so that this class never trusts a caller to have validated.
                listed.Add(PeerAddresses.TryParse(entry, out var network)
                    ? network
                    : throw new RelayConfigurationException("Relay:Scp:AllowedPeerAddresses holds an entry that is neither an address nor a CIDR range."));
            }

            return new ScpAccessPolicy(listed, callingAeTitles, fromPacsHost: false);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(options.Pacs.Host, cancellationToken);
        }
        catch (SocketException ex)
        {
            // Fail closed: without the PACS's address there is nobody the SCP may accept.
            throw new RelayConfigurationException(
                $"Relay:Pacs:Host did not resolve ({ex.SocketErrorCode}) and the C-STORE SCP accepts only the PACS's addresses: fix the name or set Relay:Scp:AllowedPeerAddresses.", ex);
        }

        if (addresses.Length == 0)
        {
            throw new RelayConfigurationException("Relay:Pacs:Host resolved to no address; set Relay:Scp:AllowedPeerAddresses.");
        }

        return new ScpAccessPolicy([.. addresses.Select(PeerAddresses.Exactly).Distinct()], callingAeTitles, fromPacsHost: true);
    }

    /// <summary>Refuses a loopback listener when an allowed peer is off this host: every move would fail, better say so at start.</summary>
    public void EnsureReachableFrom(IPAddress listening)
    {
        if (!IPAddress.IsLoopback(listening))
        {
            return;
        }

        foreach (var remote in Peers.Where(p => !PeerAddresses.IsLoopbackOnly(p)))
        {
            var source = FromPacsHost ? "Relay:Pacs:Host resolves to" : "Relay:Scp:AllowedPeerAddresses allows";
            throw new RelayConfigurationException(
                $"The C-STORE SCP listens on loopback {listening} but {source} {remote}, which cannot reach it: set Relay:Scp:BindAddress (or si-relay.socket's ListenStream=) to the relay's address the PACS sends to.");
        }
    }

    /// <summary>For logs and <c>--check</c>: addresses and AE titles (no patient data here).</summary>
    public override string ToString() =>
        $"AE {string.Join("/", CallingAeTitles)} from {string.Join(", ", Peers)}{(FromPacsHost ? " (Relay:Pacs:Host)" : string.Empty)}";
}
