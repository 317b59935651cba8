using System.Net;

namespace ServerlessImaging.Relay.Tests.Support;

/// <summary>
/// A stand-in for an authenticated DICOM service in front of the stack's (unauthenticated) Orthanc DICOMweb: answers
/// 401 unless the request carries <c>Authorization: Bearer &lt;token&gt;</c>, otherwise forwards the GET and streams the
/// answer back unchanged. Records the Authorization headers it saw.
/// </summary>
public sealed class BearerCheckingProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri _target;
    private readonly string _token;
    private readonly Task _loop;
    private readonly List<string?> _seen = [];

    public BearerCheckingProxy(Uri targetBase, string token)
    {
        _target = targetBase;
        _token = token;
        var port = Testing.Network.LoopbackTcpForwarder.FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/dicom-web/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>DICOMweb base URL of the proxy.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Authorization header of every request received.</summary>
    public IReadOnlyList<string?> AuthorizationHeaders
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var authorization = context.Request.Headers["Authorization"];
        lock (_seen)
        {
            _seen.Add(authorization);
        }

        try
        {
            if (authorization != "Bearer " + _token)
            {
                context.Response.StatusCode = 401;
                return;
            }

            var path = context.Request.RawUrl!.TrimStart('/');
            var prefix = "dicom-web/";
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_target, path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path));
            request.Headers.TryAddWithoutValidation("Accept", context.Request.Headers["Accept"]);
            using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType)
            {
                context.Response.ContentType = contentType.ToString();
            }

            context.Response.SendChunked = true;
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(context.Response.OutputStream);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or HttpRequestException)
        {
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
        _upstream.Dispose();
    }
}
