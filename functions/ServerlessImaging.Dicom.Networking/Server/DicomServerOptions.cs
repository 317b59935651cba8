using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Server;

/// <summary>What the storage SCP listens on and what it accepts.</summary>
public sealed class DicomServerOptions
{
    public required string AeTitle { get; init; }
    /// <summary>0 picks a free port (see <see cref="DicomServer.Port"/>).</summary>
    public int Port { get; init; }
    public IPAddress BindAddress { get; init; } = IPAddress.Any;
    /// <summary>
    /// A socket already bound and listening (e.g. one handed over by systemd socket activation) to accept on instead of
    /// binding <see cref="BindAddress"/>:<see cref="Port"/>. The server owns it from then on and closes it when disposed.
    /// </summary>
    public Socket? Listener { get; init; }
    /// <summary>
    /// Networks a peer's address must belong to; any other connection is closed before a byte is read from it
    /// (<see cref="DicomServer.ConnectionRefused"/>). IPv4-mapped IPv6 peers are checked as IPv4. Null accepts any address.
    /// </summary>
    public IReadOnlyCollection<IPNetwork>? AllowedPeerNetworks { get; init; }
    /// <summary>Calling AE titles allowed to associate; null accepts any.</summary>
    public IReadOnlySet<string>? AllowedCallingAeTitles { get; init; }
    /// <summary>Reject associations whose called AE title is not ours (dcmtk and Orthanc do by default).</summary>
    public bool RequireCalledAeTitle { get; init; } = true;
    /// <summary>Storage SOP classes accepted; Verification is always accepted.</summary>
    public IReadOnlyCollection<string> AcceptedSopClasses { get; init; } = DicomUids.CommonStorageSopClasses;
    /// <summary>Transfer syntaxes accepted; the requestor's first proposed syntax that is in this list wins.</summary>
    public IReadOnlyCollection<string> AcceptedTransferSyntaxes { get; init; } = DicomUids.CommonTransferSyntaxes;
    public AssociationOptions Association { get; init; } = AssociationOptions.Default;
    public int MaxConcurrentAssociations { get; init; } = 32;
}
