using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.RelayEvents;

/// <summary>
/// The queue trigger of the sites' events queues (connection <c>Storage</c>): declared once on a template queue, listed by
/// <see cref="PerSiteRelayEventTriggers"/> as one function per site (<c>RelayEvents-&lt;site&gt;</c> on
/// <c>relay-events-&lt;site&gt;</c>); hands each message to <see cref="DeliveredRelayEvents"/> with the site of its queue.
/// </summary>
public sealed class RelayEventsFunction(DeliveredRelayEvents relayEvents)
{
    /// <summary>One relay event; throwing makes the Functions host redeliver it (and poison it after <c>maxDequeueCount</c>).</summary>
    [Function(PerSiteRelayEventTriggers.TemplateFunctionName)]
    public Task RelayEvents(
        [QueueTrigger(PerSiteRelayEventTriggers.TemplateQueue, Connection = "Storage")] byte[] message,
        [DurableClient] DurableTaskClient durableClient,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        relayEvents.HandleAsync(PerSiteRelayEventTriggers.SiteOf(context.FunctionDefinition.Name), message, durableClient, cancellationToken);
}
