using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ServerlessImaging.Dicom.Web.Http;

/// <summary>Builds the Polly pipelines the client runs every HTTP attempt through.</summary>
internal static class DicomWebResilience
{
    public static ResiliencePipeline<HttpResponseMessage> Create(DicomWebRetryOptions options, TimeSpan attemptTimeout, bool retry, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider };
        if (retry && options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: { } exception } => TransientFailures.IsTransient(exception) && !args.Context.CancellationToken.IsCancellationRequested,
                    { Result: { } response } => TransientFailures.IsTransient(response.StatusCode),
                    _ => false,
                }),
                // Honour Retry-After (429/503), capped so a hostile header cannot stall us for hours.
                DelayGenerator = args =>
                {
                    var wait = TransientFailures.RetryAfter(args.Outcome.Result?.Headers.RetryAfter, timeProvider.GetUtcNow());
                    return ValueTask.FromResult(wait is { } w ? (TimeSpan?)(w > options.MaxDelay ? options.MaxDelay : w) : null);
                },
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        if (attemptTimeout > TimeSpan.Zero && attemptTimeout != Timeout.InfiniteTimeSpan)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = attemptTimeout });
        }
        return builder.Build();
    }
}
