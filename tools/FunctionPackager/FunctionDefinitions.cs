using System.Text.Json.Nodes;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.FunctionPackager;

/// <summary>
/// The functions the Functions host exposes for the custom handler, with their trigger bindings. Names must match the
/// invocation routes of <c>ServerlessImaging.FunctionApp.Hosting.CustomHandler</c> (a test checks it).
/// </summary>
public static class FunctionDefinitions
{
    /// <summary>Queue trigger on relay-events (binding "message", connection "Storage": identity-based in Azure).</summary>
    public const string RelayEvents = "RelayEvents";

    /// <summary>Timer trigger running the durable-timer and outbox sweep.</summary>
    public const string OrchestrationSweep = "OrchestrationSweep";

    /// <summary>HTTP trigger for every API route, forwarded unchanged (host.json enableForwardingHttpRequest).</summary>
    public const string HttpApi = "HttpApi";

    /// <summary>Every 15 seconds (NCRONTAB with seconds): finer than the shortest orchestration timeout that matters (2 min).</summary>
    public const string SweepSchedule = "*/15 * * * * *";

    /// <summary>function.json of each function.</summary>
    public static IReadOnlyDictionary<string, JsonObject> All() => new Dictionary<string, JsonObject>(StringComparer.Ordinal)
    {
        [RelayEvents] = Bindings(new JsonObject
        {
            ["type"] = "queueTrigger",
            ["direction"] = "in",
            ["name"] = "message",
            ["queueName"] = ResourceNames.RelayEventsQueue,
            ["connection"] = "Storage",
        }),
        [OrchestrationSweep] = Bindings(new JsonObject
        {
            ["type"] = "timerTrigger",
            ["direction"] = "in",
            ["name"] = "timer",
            ["schedule"] = SweepSchedule,
            ["runOnStartup"] = false,
            ["useMonitor"] = true,
        }),
        [HttpApi] = Bindings(
            new JsonObject
            {
                ["type"] = "httpTrigger",
                ["direction"] = "in",
                ["name"] = "req",
                // Authentication is the app's own (JWT bearer); function keys would only add a second secret to manage.
                ["authLevel"] = "anonymous",
                ["methods"] = new JsonArray("get", "post", "put", "patch", "delete"),
                ["route"] = "{*route}",
            },
            new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
    };

    private static JsonObject Bindings(params JsonObject[] bindings) => new() { ["bindings"] = new JsonArray(bindings) };
}
