using System.Net;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Server;

/// <summary>What the storage SCP listens on and what it accepts.</summary>
public sealed class DicomServerOptions
{
    public required string AeTitle { get; init; }
    /// <summary>0 picks a free port (see <see cref="DicomServer.Port"/>).</summary>
    public int Port { get; init; }
    public IPAddress BindAddress { get; init; } = IPAddress.Any;
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
