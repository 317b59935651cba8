using ServerlessImaging.Dicom.Web.Authentication;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web;

/// <summary>Where the DICOMweb service is and how to talk to it.</summary>
public sealed class DicomWebClientOptions
{
    /// <summary>Service root: Azure <c>https://ws-svc.dicom.azurehealthcareapis.com/v2/</c>, Orthanc <c>http://127.0.0.1:8144/dicom-web/</c>.</summary>
    public required Uri BaseAddress { get; init; }

    public DicomWebAuthentication Authentication { get; init; } = DicomWebAuthentication.None;

    public DicomWebRetryOptions Retry { get; init; } = new();

    /// <summary>Per attempt, until response headers arrive, for QIDO/WADO/metadata/DELETE.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>Per STOW attempt: the whole upload happens before the response, so it is much longer.</summary>
    public TimeSpan UploadAttemptTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
