using System.Net.Sockets;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Relay.Pacs;

/// <summary>Maps DIMSE failures to the contract's closed <see cref="FailureReason"/> and a message safe to send and log.</summary>
public static class PacsFailures
{
    /// <summary>Reason and safe message for an exception raised while talking to the PACS; null when it is not a PACS failure.</summary>
    public static (FailureReason Reason, string SafeMessage)? Classify(Exception exception) => exception switch
    {
        AssociationRejectedException => (FailureReason.PacsUnreachable, "The PACS rejected the association (calling or called AE title not accepted, or PACS busy)."),
        DicomTimeoutException => (FailureReason.Timeout, "The PACS did not answer in time."),
        Dicom.Networking.Dimse.DimseFailureException d => (FailureReason.PacsRejected, $"The PACS answered with failure status 0x{d.Status:X4}."),
        AssociationAbortedException => (FailureReason.PacsUnreachable, "The PACS aborted the association."),
        DicomNetworkException => (FailureReason.PacsUnreachable, "The DICOM exchange with the PACS failed."),
        SocketException s => (FailureReason.PacsUnreachable, $"The PACS could not be reached ({s.SocketErrorCode})."),
        IOException => (FailureReason.PacsUnreachable, "The connection to the PACS failed."),
        _ when exception.InnerException is { } inner => Classify(inner),
        _ => null,
    };
}
