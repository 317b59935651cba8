using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Polly;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Dicom.Web.Stow;
using ServerlessImaging.Dicom.Web.Wado;

namespace ServerlessImaging.Dicom.Web;

/// <summary>
/// DICOMweb client (PS3.18): QIDO-RS search, STOW-RS store, WADO-RS retrieve and metadata, delete.
/// Every request runs through retries for transient failures (only when the request can be replayed)
/// and a per-attempt timeout; bodies stream in both directions.
/// </summary>
public sealed class DicomWebClient : IDisposable
{
    private const string DicomJson = "application/dicom+json";
    private const string DicomXml = "application/dicom+xml";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> _retrying;
    private readonly ResiliencePipeline<HttpResponseMessage> _uploadRetrying;
    private readonly ResiliencePipeline<HttpResponseMessage> _uploadOnce;

    /// <summary>Uses a caller-owned HttpClient (e.g. from IHttpClientFactory); its BaseAddress is ignored.</summary>
    public DicomWebClient(HttpClient httpClient, DicomWebClientOptions options) : this(httpClient, options, ownsHttp: false) { }

    private DicomWebClient(HttpClient httpClient, DicomWebClientOptions options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _http = httpClient;
        _ownsHttp = ownsHttp;
        BaseAddress = DicomWebPaths.NormalizeBase(options.BaseAddress);
        _retrying = DicomWebResilience.Create(options.Retry, options.AttemptTimeout, retry: true, options.TimeProvider);
        _uploadRetrying = DicomWebResilience.Create(options.Retry, options.UploadAttemptTimeout, retry: true, options.TimeProvider);
        _uploadOnce = DicomWebResilience.Create(options.Retry, options.UploadAttemptTimeout, retry: false, options.TimeProvider);
    }

    /// <summary>A client with its own connection pool and the authentication handler from the options.</summary>
    public static DicomWebClient Create(DicomWebClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        HttpMessageHandler handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = NoDelayConnect.ConnectAsync,
        };
        if (options.Authentication.CreateHandler() is { } authentication)
        {
            authentication.InnerHandler = handler;
            handler = authentication;
        }
        // Timeouts are per attempt (Polly); the client-wide one would cut long WADO streams.
        var http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        return new DicomWebClient(http, options, ownsHttp: true);
    }

    public Uri BaseAddress { get; }

    // ---------------------------------------------------------------- QIDO-RS

    /// <summary>All matches, fetched page by page (limit/offset) as the caller enumerates.</summary>
    public async IAsyncEnumerable<DicomDataset> SearchAsync(QidoQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var offset = query.Offset;
        var remaining = query.Limit;
        while (remaining is null or > 0)
        {
            var pageSize = remaining is { } r ? Math.Min(r, query.PageSize) : query.PageSize;
            var page = await SearchPageAsync(query, offset, pageSize, cancellationToken).ConfigureAwait(false);
            foreach (var dataset in page)
            {
                yield return dataset;
            }
            if (page.Count < pageSize)
            {
                yield break;
            }
            offset += page.Count;
            remaining -= page.Count;
        }
    }

    /// <summary>One page of results.</summary>
    public async Task<IReadOnlyList<DicomDataset>> SearchPageAsync(QidoQuery query, int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Taken verbatim: System.Uri would re-escape '^' to %5E, which Orthanc (no percent-decoding) cannot match.
        var uri = new Uri(BaseAddress.AbsoluteUri + query.ToRelativeUri(offset, limit), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var response = await SendAsync("QIDO-RS", _retrying, () => Get(uri, DicomJson), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadDatasetsAsync("QIDO-RS", response, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- STOW-RS

    /// <summary>
    /// Stores instances in one streamed request. Retried on transient failures only if every source can be
    /// reopened. Returns the parsed response whenever the server sent one (200, 202, and 400/409 with a
    /// STOW body), so each instance's fate is known; throws <see cref="DicomWebException"/> otherwise.
    /// </summary>
    public async Task<StowResult> StoreAsync(IReadOnlyList<StowInstance> instances, string? studyInstanceUid = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var uri = new Uri(BaseAddress, studyInstanceUid is null ? "studies" : DicomWebPaths.Resource(studyInstanceUid));
        var replayable = instances.All(i => i.CanReopen);
        var boundary = Multipart.MultipartBoundary.Create();
        using var response = await SendAsync("STOW-RS", replayable ? _uploadRetrying : _uploadOnce, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StowContent(instances, boundary) };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DicomJson));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DicomXml, 0.5));
            return request;
        }, HttpCompletionOption.ResponseContentRead, cancellationToken, acceptStatus: status => status is HttpStatusCode.BadRequest or HttpStatusCode.Conflict).ConfigureAwait(false);
        return await StowResponseParser.ParseAsync(response, instances.Count, cancellationToken).ConfigureAwait(false);
    }

    public Task<StowResult> StoreFilesAsync(IEnumerable<string> paths, string? studyInstanceUid = null, CancellationToken cancellationToken = default) =>
        StoreAsync([.. paths.Select(StowInstance.FromFile)], studyInstanceUid, cancellationToken);

    // ---------------------------------------------------------------- WADO-RS

    /// <summary>
    /// Streams a study, series or instance as Part 10 parts, in the stored transfer syntax
    /// (<c>transfer-syntax=*</c>: no transcoding). Dispose the result to release the connection.
    /// A failure mid-stream is not retried here: the caller knows which instances it already has.
    /// </summary>
    public async Task<WadoResponse> RetrieveAsync(string studyInstanceUid, string? seriesInstanceUid = null, string? sopInstanceUid = null, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseAddress, DicomWebPaths.Resource(studyInstanceUid, seriesInstanceUid, sopInstanceUid));
        var response = await SendAsync("WADO-RS", _retrying, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            return await WadoResponse.OpenAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Retrieves into a folder, one <c>{SOPInstanceUID}.dcm</c> per instance.</summary>
    public async Task<IReadOnlyList<string>> RetrieveToFolderAsync(string folder, string studyInstanceUid, string? seriesInstanceUid = null, string? sopInstanceUid = null, CancellationToken cancellationToken = default)
    {
        var response = await RetrieveAsync(studyInstanceUid, seriesInstanceUid, sopInstanceUid, cancellationToken).ConfigureAwait(false);
        await using (response.ConfigureAwait(false))
        {
            return await WadoFolderWriter.SaveAllAsync(response, folder, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>WADO-RS metadata (DICOM JSON, no bulk data) of a study, series or instance.</summary>
    public async Task<IReadOnlyList<DicomDataset>> RetrieveMetadataAsync(string studyInstanceUid, string? seriesInstanceUid = null, string? sopInstanceUid = null, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseAddress, DicomWebPaths.Resource(studyInstanceUid, seriesInstanceUid, sopInstanceUid) + "/metadata");
        using var response = await SendAsync("WADO-RS metadata", _retrying, () => Get(uri, DicomJson), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await ReadDatasetsAsync("WADO-RS metadata", response, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- pass-through

    /// <summary>
    /// A GET of <paramref name="relativePathAndQuery"/> under the base address, with this client's authentication and
    /// retries, answered as soon as the headers arrive (any status): for a front that streams the service's answer
    /// unchanged. The path and query are taken verbatim; the caller validates them. Dispose the response.
    /// </summary>
    public Task<HttpResponseMessage> ForwardGetAsync(string relativePathAndQuery, string accept, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePathAndQuery);
        ArgumentException.ThrowIfNullOrWhiteSpace(accept);
        var uri = new Uri(BaseAddress.AbsoluteUri + relativePathAndQuery.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        return SendAsync("forwarded GET", _retrying, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Accept", accept);
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken, acceptStatus: _ => true);
    }

    // ---------------------------------------------------------------- DELETE

    /// <summary>
    /// Deletes a study, series or instance (Azure DICOM service). Orthanc's DICOMweb plugin has no
    /// DELETE: it answers 405, reported as <see cref="DicomWebFailureKind.NotSupported"/>.
    /// </summary>
    public async Task DeleteAsync(string studyInstanceUid, string? seriesInstanceUid = null, string? sopInstanceUid = null, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseAddress, DicomWebPaths.Resource(studyInstanceUid, seriesInstanceUid, sopInstanceUid));
        using var response = await SendAsync("DELETE", _retrying, () => new HttpRequestMessage(HttpMethod.Delete, uri), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    // ---------------------------------------------------------------- plumbing

    private static HttpRequestMessage Get(Uri uri, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return request;
    }

    /// <summary>Sends through the pipeline; a fresh request per attempt. Non-success (unless accepted) becomes a typed exception.</summary>
    private async Task<HttpResponseMessage> SendAsync(
        string operation,
        ResiliencePipeline<HttpResponseMessage> pipeline,
        Func<HttpRequestMessage> createRequest,
        HttpCompletionOption completion,
        CancellationToken cancellationToken,
        Func<HttpStatusCode, bool>? acceptStatus = null)
    {
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                using var request = createRequest();
                return await _http.SendAsync(request, completion, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailures.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new DicomWebException($"DICOMweb {operation} failed: {ex.GetType().Name} ({ex.Message}).", DicomWebFailureKind.Transient, innerException: ex);
        }
        if (response.IsSuccessStatusCode || acceptStatus?.Invoke(response.StatusCode) == true)
        {
            return response;
        }
        using (response)
        {
            throw await DicomWebException.FromResponseAsync(operation, response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyList<DicomDataset>> ReadDatasetsAsync(string operation, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return []; // Azure answers an empty search with 204
        }
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await DicomJsonResponses.ReadDatasetArrayAsync(operation, stream, cancellationToken).ConfigureAwait(false);
        }
    }
}
