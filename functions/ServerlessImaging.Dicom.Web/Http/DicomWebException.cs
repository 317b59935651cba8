using System.Net;

namespace ServerlessImaging.Dicom.Web.Http;

/// <summary>What kind of failure a DICOMweb call met, so callers can react without parsing messages.</summary>
public enum DicomWebFailureKind
{
    /// <summary>400: the server rejected the request (bad query key, malformed body...).</summary>
    BadRequest,
    /// <summary>401/403: missing or insufficient credentials.</summary>
    Unauthorized,
    /// <summary>404: no such study/series/instance (or no such endpoint).</summary>
    NotFound,
    /// <summary>406/415: the server cannot produce or accept the media type asked for.</summary>
    UnsupportedMediaType,
    /// <summary>405/501: the server does not implement this transaction (e.g. Orthanc and DELETE).</summary>
    NotSupported,
    /// <summary>409: conflict, e.g. every instance of a STOW already exists.</summary>
    Conflict,
    /// <summary>408/429/5xx, network errors, timeouts: retried already and still failing.</summary>
    Transient,
    /// <summary>Any other non-success status.</summary>
    ServerError,
    /// <summary>The response does not follow DICOMweb (bad multipart, bad JSON, wrong media type).</summary>
    Protocol,
}

/// <summary>
/// A DICOMweb call failed. The message names the transaction and status only: response bodies may
/// echo patient data, so the body is kept in <see cref="ResponseBody"/> for deliberate inspection.
/// </summary>
public sealed class DicomWebException : Exception
{
    public DicomWebException() : base("DICOMweb call failed.") { }

    public DicomWebException(string message) : base(message) { }

    public DicomWebException(string message, Exception innerException) : base(message, innerException) { }

    public DicomWebException(string message, DicomWebFailureKind kind, HttpStatusCode? statusCode = null, string? responseBody = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
        ResponseBody = responseBody;
    }

    public DicomWebFailureKind Kind { get; } = DicomWebFailureKind.ServerError;

    public HttpStatusCode? StatusCode { get; }

    /// <summary>Up to 4 KB of the error response body; may contain patient data, never logged by this library.</summary>
    public string? ResponseBody { get; }

    internal static DicomWebFailureKind KindOf(HttpStatusCode status) => (int)status switch
    {
        400 => DicomWebFailureKind.BadRequest,
        401 or 403 => DicomWebFailureKind.Unauthorized,
        404 or 410 => DicomWebFailureKind.NotFound,
        405 or 501 => DicomWebFailureKind.NotSupported,
        406 or 415 => DicomWebFailureKind.UnsupportedMediaType,
        409 => DicomWebFailureKind.Conflict,
        _ when TransientFailures.IsTransient(status) => DicomWebFailureKind.Transient,
        _ => DicomWebFailureKind.ServerError,
    };

    internal static async Task<DicomWebException> FromResponseAsync(string operation, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? body = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            body = text.Length > 4096 ? text[..4096] : text;
        }
        catch (HttpRequestException)
        {
            // The body is a courtesy; the status is what matters.
        }
        var status = response.StatusCode;
        return new DicomWebException(
            $"DICOMweb {operation} failed: HTTP {(int)status} {response.ReasonPhrase}.",
            KindOf(status), status, body);
    }
}
