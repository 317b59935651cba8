namespace ServerlessImaging.Dicom.Networking.Dimse;

/// <summary>Command Field (0000,0100) values of the DIMSE-C services (PS3.7 E.1).</summary>
public enum CommandField : ushort
{
    CStoreRequest = 0x0001,
    CStoreResponse = 0x8001,
    CGetRequest = 0x0010,
    CGetResponse = 0x8010,
    CFindRequest = 0x0020,
    CFindResponse = 0x8020,
    CMoveRequest = 0x0021,
    CMoveResponse = 0x8021,
    CEchoRequest = 0x0030,
    CEchoResponse = 0x8030,
    CCancelRequest = 0x0FFF,
}

/// <summary>DIMSE status codes (PS3.7 annex C) and their classes.</summary>
public static class DimseStatus
{
    public const ushort Success = 0x0000;
    public const ushort Pending = 0xFF00;
    public const ushort PendingWarning = 0xFF01;
    public const ushort Cancel = 0xFE00;
    public const ushort SubOperationsCompleteWithFailures = 0xB000;
    public const ushort SopClassNotSupported = 0x0122;
    public const ushort NotAuthorized = 0x0124;
    public const ushort ProcessingFailure = 0x0110;
    public const ushort DuplicateInvocation = 0x0210;
    public const ushort OutOfResources = 0xA700;
    public const ushort DataSetDoesNotMatchSopClass = 0xA900;
    public const ushort CannotUnderstand = 0xC000;
    public const ushort MoveDestinationUnknown = 0xA801;

    public static bool IsPending(ushort status) => status is Pending or PendingWarning;
    public static bool IsSuccess(ushort status) => status == Success;
    public static bool IsWarning(ushort status) => status is 0x0001 or 0x0107 or 0x0116 or >= 0xB000 and <= 0xBFFF;
    public static bool IsFailure(ushort status) => !IsPending(status) && !IsSuccess(status) && !IsWarning(status) && status != Cancel;
}

/// <summary>A DIMSE operation ended with a failure status.</summary>
public sealed class DimseFailureException : UpperLayer.DicomNetworkException
{
    public DimseFailureException(CommandField operation, ushort status, string? errorComment)
        : base($"{operation} failed with status 0x{status:X4}{(string.IsNullOrEmpty(errorComment) ? "" : ": " + errorComment)}.")
    {
        Operation = operation;
        Status = status;
    }

    public DimseFailureException() { }
    public DimseFailureException(string message) : base(message) { }
    public DimseFailureException(string message, Exception inner) : base(message, inner) { }

    public CommandField Operation { get; }
    public ushort Status { get; }
}
