using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>Who we are and whom we call.</summary>
public sealed class DicomClientOptions
{
    public required string Host { get; init; }
    public required int Port { get; init; }
    public required string CallingAeTitle { get; init; }
    public required string CalledAeTitle { get; init; }
    public AssociationOptions Association { get; init; } = AssociationOptions.Default;
    public UserIdentityRequest? UserIdentity { get; init; }
}
