using System.Net;
using System.Net.Http.Headers;
using Polly.Timeout;

namespace ServerlessImaging.Dicom.Web.Http;

/// <summary>Which failures are worth retrying: they say nothing about the request itself.</summary>
public static class TransientFailures
{
    /// <summary>408, 429 and 5xx except 501 (not implemented) and 505 (version not supported).</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        (int)status is 408 or 429 || (int)status >= 500 && (int)status != 501 && (int)status != 505;

    /// <summary>Network errors and attempt timeouts; never the caller's own cancellation.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        HttpRequestException => true,
        TimeoutRejectedException => true,
        IOException => true,
        _ => false,
    };

    /// <summary>The server's Retry-After as a delay from <paramref name="now"/>, if it sent one.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
