using System.Net.Security;

namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>Transport and timer settings of one association.</summary>
public sealed class AssociationOptions
{
    public const uint DefaultMaxPduLength = 1024 * 1024;
    /// <summary>Hard cap on any PDU a peer may send us, whatever it claims (guards allocation).</summary>
    public const uint AbsoluteMaxPduLength = 64 * 1024 * 1024;

    /// <summary>Largest P-DATA-TF variable field we announce and accept.</summary>
    public uint MaxPduLength { get; init; } = DefaultMaxPduLength;
    /// <summary>ARTIM: connect, association negotiation and release must complete within this.</summary>
    public TimeSpan ArtimTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Longest wait for the next PDU while a DIMSE operation is in progress.</summary>
    public TimeSpan DimseTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>When set, the connection is wrapped in TLS (client: target host and validation; server: certificate).</summary>
    public SslClientAuthenticationOptions? TlsClient { get; init; }
    public SslServerAuthenticationOptions? TlsServer { get; init; }

    public static AssociationOptions Default { get; } = new();

    internal static int MaxPdvDataLength(uint peerMaxPdu)
    {
        // The peer's limit applies to the whole PDU variable field: one PDV item = 4 length + 1 id + 1 header + data.
        var limit = peerMaxPdu == 0 ? 64 * 1024 : Math.Min(peerMaxPdu, 4u * 1024 * 1024);
        return (int)Math.Max(limit, 64) - 6;
    }
}
