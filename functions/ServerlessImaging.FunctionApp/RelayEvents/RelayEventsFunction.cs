using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.FunctionApp.RelayEvents;

/// <summary>The queue trigger on <see cref="ResourceNames.RelayEventsQueue"/> (connection <c>Storage</c>): hands each message to <see cref="DeliveredRelayEvents"/>.</summary>
public sealed class RelayEventsFunction(DeliveredRelayEvents relayEvents)
{
    /// <summary>One relay event; throwing makes the Functions host redeliver it (and poison it after <c>maxDequeueCount</c>).</summary>
    [Function("RelayEvents")]
    public Task RelayEvents([QueueTrigger(ResourceNames.RelayEventsQueue, Connection = "Storage")] byte[] message, [DurableClient] DurableTaskClient durableClient, CancellationToken cancellationToken) => relayEvents.HandleAsync(message, durableClient, cancellationToken);
}
