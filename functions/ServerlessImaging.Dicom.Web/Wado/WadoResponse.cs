using System.Runtime.CompilerServices;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Multipart;

namespace ServerlessImaging.Dicom.Web.Wado;

/// <summary>
/// A WADO-RS multipart/related response being read: each part (one Part 10 instance) is a stream
/// straight off the connection, valid until the next part is requested.
/// </summary>
public sealed class WadoResponse : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _body;
    private readonly MultipartReader _reader;

    private WadoResponse(HttpResponseMessage response, Stream body, MultipartContentType contentType)
    {
        _response = response;
        _body = body;
        ContentType = contentType;
        _reader = new MultipartReader(body, contentType.Boundary, leaveOpen: true);
    }

    public MultipartContentType ContentType { get; }

    internal static async Task<WadoResponse> OpenAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        MultipartContentType contentType;
        try
        {
            contentType = MultipartContentType.Parse(response.Content.Headers.ContentType);
        }
        catch (MultipartFormatException ex)
        {
            throw new DicomWebException("DICOMweb WADO-RS returned a response that is not multipart/related.", DicomWebFailureKind.Protocol, response.StatusCode, innerException: ex);
        }
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new WadoResponse(response, body, contentType);
    }

    /// <summary>The next instance, or null at the end.</summary>
    /// <exception cref="DicomWebException">Kind <see cref="DicomWebFailureKind.Protocol"/> if the multipart body is malformed or cut.</exception>
    public async ValueTask<MultipartPart?> ReadNextPartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _reader.ReadNextPartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MultipartFormatException ex)
        {
            throw new DicomWebException($"DICOMweb WADO-RS response is malformed: {ex.Message}", DicomWebFailureKind.Protocol, _response.StatusCode, innerException: ex);
        }
    }

    public async IAsyncEnumerable<MultipartPart> ReadPartsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadNextPartAsync(cancellationToken).ConfigureAwait(false) is { } part)
        {
            yield return part;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync().ConfigureAwait(false);
        await _body.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
    }
}
