using Microsoft.DurableTask.Client;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>
/// Removes the engine's history of registrations whose orchestration ended (completed once their retention purge and
/// everything it waited for settled; failed or terminated by an operator). The history holds the registration's plan,
/// patient identity included, so it goes as soon as the orchestration is over; the audit trail keeps what happened.
/// Run periodically by each host (a timer trigger in the Functions app, a loop in the standalone host).
/// </summary>
public sealed class SettledRegistrationPurge(DurableClientHolder durableClient, TimeProvider time, ILogger<SettledRegistrationPurge> logger)
{
    private static readonly OrchestrationRuntimeStatus[] Ended =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    /// <summary>Purges every ended registration instance; returns how many were purged.</summary>
    /// <remarks>
    /// Listed, then purged one by one: the standalone host's API server does not implement the purge by filter, and a
    /// page at a time keeps each run short.
    /// </remarks>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var client = durableClient.Client;
        var purged = 0;
        var query = new OrchestrationQuery { Statuses = Ended, CreatedTo = time.GetUtcNow(), PageSize = 100 };
        await foreach (var instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            purged += (await client.PurgeInstanceAsync(instance.InstanceId, cancellation: cancellationToken)).PurgedInstanceCount;
        }

        if (purged > 0)
        {
            logger.LogInformation("Purged the history of {Count} ended registration orchestration(s).", purged);
        }

        return purged;
    }
}
