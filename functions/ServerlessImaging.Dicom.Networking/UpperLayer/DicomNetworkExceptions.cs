namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>Base of every error raised by the networking layer.</summary>
public class DicomNetworkException : Exception
{
    public DicomNetworkException() { }
    public DicomNetworkException(string message) : base(message) { }
    public DicomNetworkException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The peer answered A-ASSOCIATE-RQ with A-ASSOCIATE-RJ.</summary>
public sealed class AssociationRejectedException : DicomNetworkException
{
    public AssociationRejectedException(RejectResult result, RejectSource source, byte reason)
        : base($"Association rejected: result={result}, source={source}, reason={DescribeReason(source, reason)} ({reason}).")
    {
        Result = result;
        RejectSource = source;
        Reason = reason;
    }

    public AssociationRejectedException() { }
    public AssociationRejectedException(string message) : base(message) { }
    public AssociationRejectedException(string message, Exception inner) : base(message, inner) { }

    public RejectResult Result { get; }
    public RejectSource RejectSource { get; }
    public byte Reason { get; }

    internal static string DescribeReason(RejectSource source, byte reason) => (source, reason) switch
    {
        (RejectSource.ServiceUser, 1) => "no-reason-given",
        (RejectSource.ServiceUser, 2) => "application-context-name-not-supported",
        (RejectSource.ServiceUser, 3) => "calling-AE-title-not-recognized",
        (RejectSource.ServiceUser, 7) => "called-AE-title-not-recognized",
        (RejectSource.ServiceProviderAcse, 1) => "no-reason-given",
        (RejectSource.ServiceProviderAcse, 2) => "protocol-version-not-supported",
        (RejectSource.ServiceProviderPresentation, 1) => "temporary-congestion",
        (RejectSource.ServiceProviderPresentation, 2) => "local-limit-exceeded",
        _ => "reserved",
    };
}

/// <summary>The association was aborted, by the peer (A-ABORT received or connection dropped) or by us after a protocol error.</summary>
public sealed class AssociationAbortedException : DicomNetworkException
{
    public AssociationAbortedException(AbortSource source, AbortReason reason, string message)
        : base(message)
    {
        AbortSource = source;
        Reason = reason;
    }

    public AssociationAbortedException() { }
    public AssociationAbortedException(string message) : base(message) { }
    public AssociationAbortedException(string message, Exception inner) : base(message, inner) { }

    public AbortSource AbortSource { get; }
    public AbortReason Reason { get; }
}

/// <summary>The peer sent something that breaks PS3.8 (malformed or unexpected PDU); we aborted the association.</summary>
public sealed class DicomProtocolException : DicomNetworkException
{
    public DicomProtocolException(AbortReason reason, string message) : base(message) => Reason = reason;
    public DicomProtocolException() { }
    public DicomProtocolException(string message) : base(message) { }
    public DicomProtocolException(string message, Exception inner) : base(message, inner) { }

    public AbortReason Reason { get; }
}

/// <summary>Which timer fired.</summary>
public enum DicomTimer { Artim, Dimse }

/// <summary>The ARTIM or DIMSE timer expired; the association was aborted.</summary>
public sealed class DicomTimeoutException : DicomNetworkException
{
    public DicomTimeoutException(DicomTimer timer, TimeSpan after)
        : base($"{timer} timer expired after {after.TotalSeconds:0.###} s; association aborted.")
    {
        Timer = timer;
        After = after;
    }

    public DicomTimeoutException() { }
    public DicomTimeoutException(string message) : base(message) { }
    public DicomTimeoutException(string message, Exception inner) : base(message, inner) { }

    public DicomTimer Timer { get; }
    public TimeSpan After { get; }
}

/// <summary>None of the presentation contexts needed for an operation was accepted by the peer.</summary>
public sealed class PresentationContextNotAcceptedException : DicomNetworkException
{
    public PresentationContextNotAcceptedException(string abstractSyntax, string detail)
        : base($"No accepted presentation context for {abstractSyntax}: {detail}") => AbstractSyntax = abstractSyntax;

    public PresentationContextNotAcceptedException() { }
    public PresentationContextNotAcceptedException(string message) : base(message) { }
    public PresentationContextNotAcceptedException(string message, Exception inner) : base(message, inner) { }

    public string AbstractSyntax { get; } = "";
}
