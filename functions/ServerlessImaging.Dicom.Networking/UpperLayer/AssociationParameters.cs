namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>The content of an A-ASSOCIATE-RQ PDU.</summary>
public sealed class AssociateRequest
{
    public required string CalledAeTitle { get; init; }
    public required string CallingAeTitle { get; init; }
    public string ApplicationContext { get; init; } = DicomUids.ApplicationContext;
    public required IReadOnlyList<PresentationContextProposal> PresentationContexts { get; init; }
    /// <summary>The largest P-DATA-TF PDU (variable part) this side accepts; 0 = unlimited.</summary>
    public uint MaxPduLength { get; init; } = AssociationOptions.DefaultMaxPduLength;
    public string ImplementationClassUid { get; init; } = DicomUids.ImplementationClass;
    public string? ImplementationVersionName { get; init; } = DicomUids.ImplementationVersion;
    public (ushort Invoked, ushort Performed)? AsyncOperationsWindow { get; init; }
    public IReadOnlyList<RoleSelection> RoleSelections { get; init; } = [];
    public UserIdentityRequest? UserIdentity { get; init; }
}

/// <summary>The content of an A-ASSOCIATE-AC PDU.</summary>
public sealed class AssociateAccept
{
    public required string CalledAeTitle { get; init; }
    public required string CallingAeTitle { get; init; }
    public string ApplicationContext { get; init; } = DicomUids.ApplicationContext;
    public required IReadOnlyList<PresentationContextAnswer> PresentationContexts { get; init; }
    public uint MaxPduLength { get; init; } = AssociationOptions.DefaultMaxPduLength;
    public string ImplementationClassUid { get; init; } = DicomUids.ImplementationClass;
    public string? ImplementationVersionName { get; init; } = DicomUids.ImplementationVersion;
    public (ushort Invoked, ushort Performed)? AsyncOperationsWindow { get; init; }
    public IReadOnlyList<RoleSelection> RoleSelections { get; init; } = [];
    /// <summary>Server response of user identity negotiation, when the requestor asked for one.</summary>
    public byte[]? UserIdentityServerResponse { get; init; }
}

/// <summary>A-ASSOCIATE-RJ result (PS3.8 9.3.4).</summary>
public enum RejectResult : byte { RejectedPermanent = 1, RejectedTransient = 2 }

/// <summary>A-ASSOCIATE-RJ source.</summary>
public enum RejectSource : byte { ServiceUser = 1, ServiceProviderAcse = 2, ServiceProviderPresentation = 3 }

/// <summary>A-ASSOCIATE-RJ reason/diag values; their meaning depends on the source (PS3.8 table 9-21).</summary>
public enum RejectReason : byte
{
    NoReasonGiven = 1,
    ApplicationContextNotSupported = 2,
    CallingAeNotRecognized = 3,
    CalledAeNotRecognized = 7,
    // With source ServiceProviderAcse: 1 = no reason, 2 = protocol version not supported.
    // With source ServiceProviderPresentation: 1 = temporary congestion, 2 = local limit exceeded.
}

/// <summary>A-ABORT source (PS3.8 9.3.8).</summary>
public enum AbortSource : byte { ServiceUser = 0, ServiceProvider = 2 }

/// <summary>A-ABORT reason when the source is the service provider.</summary>
public enum AbortReason : byte
{
    NotSpecified = 0,
    UnrecognizedPdu = 1,
    UnexpectedPdu = 2,
    UnrecognizedPduParameter = 4,
    UnexpectedPduParameter = 5,
    InvalidPduParameterValue = 6,
}
