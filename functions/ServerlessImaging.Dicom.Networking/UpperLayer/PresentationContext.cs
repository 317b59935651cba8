namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>Result of presentation-context negotiation (PS3.8 9.3.3.2).</summary>
public enum PresentationContextResult : byte
{
    Acceptance = 0,
    UserRejection = 1,
    NoReason = 2,
    AbstractSyntaxNotSupported = 3,
    TransferSyntaxesNotSupported = 4,
}

/// <summary>A presentation context as proposed by the requestor: one abstract syntax, candidate transfer syntaxes.</summary>
public sealed record PresentationContextProposal(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes);

/// <summary>The acceptor's answer for one proposed presentation context.</summary>
public sealed record PresentationContextAnswer(byte Id, PresentationContextResult Result, string? TransferSyntax);

/// <summary>SCP/SCU role selection sub-item (PS3.7 D.3.3.4).</summary>
public sealed record RoleSelection(string SopClassUid, bool ScuRole, bool ScpRole);

/// <summary>User identity negotiation request (PS3.7 D.3.3.7). Type 1 = username, 2 = username+passcode, 3 = Kerberos, 4 = SAML, 5 = JWT.</summary>
public sealed record UserIdentityRequest(byte IdentityType, bool PositiveResponseRequested, byte[] PrimaryField, byte[] SecondaryField);
