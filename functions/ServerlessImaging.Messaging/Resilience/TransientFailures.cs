using System.Net.Sockets;
using Azure;
using Polly;
using Polly.Retry;

namespace ServerlessImaging.Messaging.Resilience;

/// <summary>Which failures mean "the service is unreachable or busy, try again later", and the backoff used for them.</summary>
public static class TransientFailures
{
    /// <summary>True for network errors, timeouts, throttling and server errors; false for contract or permission errors.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        RequestFailedException rfe => rfe.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        AggregateException agg => agg.InnerExceptions.All(IsTransient),
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };

    /// <summary>Exponential backoff with jitter on transient failures; <paramref name="maxAttempts"/> null retries until cancelled.</summary>
    public static ResiliencePipeline CreateRetryPipeline(TimeSpan baseDelay, TimeSpan maxDelay, int? maxAttempts, Action<Exception, TimeSpan, int>? onRetry = null) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException && IsTransient(e)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay,
                MaxDelay = maxDelay,
                MaxRetryAttempts = maxAttempts is { } n ? Math.Max(n - 1, 0) : int.MaxValue,
                OnRetry = args =>
                {
                    onRetry?.Invoke(args.Outcome.Exception!, args.RetryDelay, args.AttemptNumber + 1);
                    return default;
                },
            })
            .Build();
}
