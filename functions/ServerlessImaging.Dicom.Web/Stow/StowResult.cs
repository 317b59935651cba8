using System.Globalization;
using System.Net;

namespace ServerlessImaging.Dicom.Web.Stow;

/// <summary>Overall outcome of a STOW-RS request.</summary>
public enum StowOutcome
{
    /// <summary>Every instance sent was stored, without warnings.</summary>
    Success,
    /// <summary>Some stored, or stored with warnings (HTTP 202, WarningReason, unreported parts).</summary>
    Partial,
    /// <summary>Nothing stored (HTTP 400/409 with a STOW response body).</summary>
    Failed,
}

/// <summary>An instance the server stored (an item of ReferencedSOPSequence).</summary>
public sealed record StowStoredInstance(string SopClassUid, string SopInstanceUid, string? RetrieveUrl, ushort? WarningReason);

/// <summary>An instance the server refused (an item of FailedSOPSequence).</summary>
public sealed record StowFailedInstance(string SopClassUid, string SopInstanceUid, ushort FailureReason)
{
    /// <summary>Azure's DICOM service refuses an instance that already exists with 0xB00E (45070).</summary>
    public bool IsDuplicate => FailureReason == StowStatusCodes.DuplicateInstance;

    public string Description => StowStatusCodes.Describe(FailureReason);
}

/// <summary>The parsed STOW-RS response (PS3.18 10.5.3): nothing the server said is dropped.</summary>
public sealed class StowResult
{
    public required HttpStatusCode StatusCode { get; init; }

    /// <summary>Number of parts this client sent.</summary>
    public required int SentCount { get; init; }

    public string? RetrieveUrl { get; init; }

    public IReadOnlyList<StowStoredInstance> Stored { get; init; } = [];

    public IReadOnlyList<StowFailedInstance> Failed { get; init; } = [];

    /// <summary>HTTP Warning headers, WarningReason codes and the count of parts the server did not report on.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Parts neither referenced nor failed: Orthanc silently drops parts it cannot parse.</summary>
    public int UnreportedCount => Math.Max(0, SentCount - Stored.Count - Failed.Count);

    public StowOutcome Outcome =>
        Stored.Count == 0 ? StowOutcome.Failed
        : Failed.Count == 0 && Warnings.Count == 0 && UnreportedCount == 0 && StatusCode == HttpStatusCode.OK ? StowOutcome.Success
        : StowOutcome.Partial;
}

/// <summary>STOW failure and warning reasons (PS3.18 table 10.5.3-2, PS3.4 Annex B, Azure DICOM service codes).</summary>
public static class StowStatusCodes
{
    public const ushort ProcessingFailure = 0x0110;
    public const ushort SopClassNotSupported = 0x0122;
    public const ushort OutOfResources = 0xA700;
    public const ushort DataSetDoesNotMatchSopClass = 0xA900;
    public const ushort StudyInstanceUidMismatch = 0xA901;
    public const ushort CoercionOfDataElements = 0xB000;
    public const ushort ElementsDiscarded = 0xB006;
    public const ushort DataSetDoesNotMatchSopClassWarning = 0xB007;
    public const ushort DuplicateInstance = 0xB00E;
    public const ushort CannotUnderstand = 0xC000;
    public const ushort TransferSyntaxNotSupported = 0xC122;

    public static string Describe(ushort code) => code switch
    {
        ProcessingFailure => "processing failure",
        SopClassNotSupported => "SOP class not supported",
        OutOfResources => "out of resources",
        DataSetDoesNotMatchSopClass => "data set does not match SOP class",
        StudyInstanceUidMismatch => "study instance UID does not match the request",
        CoercionOfDataElements => "coercion of data elements",
        ElementsDiscarded => "elements discarded",
        DataSetDoesNotMatchSopClassWarning => "data set does not match SOP class (warning)",
        DuplicateInstance => "instance already exists",
        TransferSyntaxNotSupported => "transfer syntax not supported",
        >= 0xC000 and <= 0xCFFF => "cannot understand",
        _ => "status 0x" + code.ToString("X4", CultureInfo.InvariantCulture),
    };
}
