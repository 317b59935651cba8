using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.FunctionApp.Maintenance;

/// <summary>Hourly: removes the history of ended registrations from the task hub (<see cref="SettledRegistrationPurge"/>).</summary>
public sealed class PurgeSettledRegistrationsFunction(SettledRegistrationPurge purge, DurableClientHolder holder)
{
    /// <summary>The function's name in <c>functions.metadata</c>.</summary>
    public const string Name = "PurgeSettledRegistrations";

    /// <summary>At minute 17 of every hour (off the hour, when other schedules pile up).</summary>
    [Function(Name)]
    public Task Run([TimerTrigger("0 17 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient durableClient, CancellationToken cancellationToken)
    {
        holder.Provide(durableClient);
        return purge.RunOnceAsync(cancellationToken);
    }
}
