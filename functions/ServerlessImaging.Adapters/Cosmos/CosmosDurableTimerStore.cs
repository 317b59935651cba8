using System.Net;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// Durable timers as small documents in the <c>registrations</c> container (type <c>timer</c>, id = the timer's
/// command id), found by a query on their due time. Scheduling twice is a no-op (create conflicts are success).
/// </summary>
public sealed class CosmosDurableTimerStore(Container container) : IDurableTimerStore
{
    internal const string TimerType = "timer";

    /// <inheritdoc />
    public async Task ScheduleAsync(StartDurableTimer timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var id = DocumentId(timer.CommandId);
        using var body = CosmosJson.ToStream(new TimerDocument(id, TimerType, timer, timer.FireAt.ToUnixTimeMilliseconds()));
        using var response = await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken);
        if (response.StatusCode != HttpStatusCode.Conflict)
        {
            CosmosJson.EnsureSuccess(response, "schedule timer");
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StartDurableTimer>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        // No ORDER BY: sorted here, so the query stays a plain filtered scan every Cosmos flavour answers.
        var query = new QueryDefinition("SELECT * FROM c WHERE c.type = @type AND c.fireAtMs <= @now")
            .WithParameter("@type", TimerType)
            .WithParameter("@now", now.ToUnixTimeMilliseconds());
        var due = new List<TimerDocument>();
        using var iterator = container.GetItemQueryStreamIterator(query, requestOptions: new QueryRequestOptions { MaxItemCount = 500 });
        while (iterator.HasMoreResults)
        {
            using var page = await iterator.ReadNextAsync(cancellationToken);
            CosmosJson.EnsureSuccess(page, "query timers");
            due.AddRange((await CosmosJson.FromResponseAsync<QueryPage>(page, cancellationToken)).Documents);
        }

        return [.. due.OrderBy(d => d.FireAtMs).ThenBy(d => d.Id, StringComparer.Ordinal).Take(max).Select(d => d.Timer)];
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string timerId, CancellationToken cancellationToken)
    {
        var id = DocumentId(timerId);
        using var response = await container.DeleteItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken);
        if (!CosmosJson.IsNotFound(response))
        {
            CosmosJson.EnsureSuccess(response, "remove timer");
        }
    }

    private static string DocumentId(string timerId) => CosmosIds.Encode("timer:" + timerId);

    private sealed record TimerDocument(string Id, string Type, StartDurableTimer Timer, long FireAtMs);

    private sealed record QueryPage(List<TimerDocument> Documents);
}
