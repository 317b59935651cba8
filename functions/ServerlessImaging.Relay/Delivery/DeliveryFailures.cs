using System.Net.Sockets;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Networking.UpperLayer;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Relay.Delivery;

/// <summary>Maps what can go wrong during a delivery to the contract's reason, transience and a safe message.</summary>
public static class DeliveryFailures
{
    /// <summary>Reason, transience and safe message of a failure while talking to the destination (DIMSE).</summary>
    public static DeliveryException? FromDestination(Exception exception) => exception switch
    {
        DeliveryException d => d,
        AssociationRejectedException { Result: RejectResult.RejectedTransient } => new(DeliveryFailureReason.DestinationUnreachable, true, "The destination rejected the association for now (busy or temporarily unavailable).", exception),
        AssociationRejectedException => new(DeliveryFailureReason.DestinationRefused, false, "The destination rejected the association (calling or called AE title not accepted).", exception),
        DicomTimeoutException => new(DeliveryFailureReason.Timeout, true, "The destination did not answer in time.", exception),
        PresentationContextNotAcceptedException => new(DeliveryFailureReason.DestinationRefused, false, "The destination accepts none of the proposed storage contexts.", exception),
        Dicom.Networking.Dimse.DimseFailureException f => new(DeliveryFailureReason.DestinationRefused, false, $"The destination answered with failure status 0x{f.Status:X4}.", exception),
        AssociationAbortedException => new(DeliveryFailureReason.DestinationUnreachable, true, "The destination aborted the association.", exception),
        DicomNetworkException => new(DeliveryFailureReason.DestinationUnreachable, true, "The DICOM exchange with the destination failed.", exception),
        SocketException s => new(DeliveryFailureReason.DestinationUnreachable, true, $"The destination could not be reached ({s.SocketErrorCode}).", exception),
        IOException => new(DeliveryFailureReason.DestinationUnreachable, true, "The connection to the destination failed.", exception),
        _ when exception.InnerException is { } inner => FromDestination(inner),
        _ => null,
    };

    /// <summary>Reason, transience and safe message of a failure while reading from the DICOM service (DICOMweb).</summary>
    public static DeliveryException FromSource(Exception exception) => exception switch
    {
        DeliveryException d => d,
        DicomWebException { Kind: DicomWebFailureKind.Unauthorized } w => new(DeliveryFailureReason.CredentialRejected, true, $"The DICOM service refused the credential (HTTP {(int?)w.StatusCode})."),
        DicomWebException { Kind: DicomWebFailureKind.NotFound } => new(DeliveryFailureReason.SourceNotFound, false, "The study is not in the DICOM service."),
        DicomWebException w => new(DeliveryFailureReason.SourceUnreachable, true, $"The DICOM service failed ({w.Kind}, HTTP {(int?)w.StatusCode})."),
        HttpRequestException h => new(DeliveryFailureReason.SourceUnreachable, true, $"The DICOM service could not be reached ({h.HttpRequestError})."),
        _ => new(DeliveryFailureReason.SourceUnreachable, true, $"Reading from the DICOM service failed ({exception.GetType().Name})."),
    };
}
