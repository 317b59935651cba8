using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.FunctionApp.Runtime;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.FunctionApp.Hosting;

/// <summary>
/// Azure Functions custom-handler mode. The Functions host owns the triggers and POSTs each invocation to
/// <c>/{functionName}</c> as <c>{"Data": {binding: value}, "Metadata": {...}}</c>; we answer
/// <c>{"Outputs": {}, "Logs": [...], "ReturnValue": null}</c> with 200, or 500 to make the host retry (queue
/// messages go to <c>relay-events-poison</c> after <c>maxDequeueCount</c>). HTTP functions are forwarded unchanged
/// (<c>enableForwardingHttpRequest: true</c> in host.json), so the API endpoints need nothing here.
/// </summary>
public static class CustomHandler
{
    /// <summary>Function name of the relay-events queue trigger (its folder in the package).</summary>
    public const string RelayEventsFunction = "RelayEvents";

    /// <summary>Binding name of the queue message in that function's function.json.</summary>
    public const string RelayEventsBinding = "message";

    /// <summary>Function name of the timer trigger that runs the sweep.</summary>
    public const string SweepFunction = "OrchestrationSweep";

    /// <summary>Binding name of the timer.</summary>
    public const string SweepBinding = "timer";

    /// <summary>Function name of the HTTP API (route <c>{*route}</c>, forwarded).</summary>
    public const string HttpApiFunction = "HttpApi";

    /// <summary>The port the host tells the handler to listen on.</summary>
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    /// <summary>True when the process was started by the Functions host.</summary>
    public static bool IsRequested(string[] args) => args.Contains("--custom-handler", StringComparer.Ordinal);

    /// <summary>Listens on loopback at <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>.</summary>
    public static void ListenForFunctionsHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var port = Environment.GetEnvironmentVariable(PortVariable);
        builder.WebHost.UseUrls($"http://127.0.0.1:{(string.IsNullOrWhiteSpace(port) ? "8080" : port)}");
    }

    /// <summary>Maps the invocation endpoints.</summary>
    public static IEndpointRouteBuilder MapCustomHandlerInvocations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/" + RelayEventsFunction, HandleRelayEventAsync);
        endpoints.MapPost("/" + SweepFunction, HandleSweepAsync);
        return endpoints;
    }

    private static async Task<IResult> HandleRelayEventAsync(HttpRequest request, RelayEventProcessor processor, MessageChannel channel, StorageQueueTransport transport, RuntimeOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(CustomHandler));
        JsonNode? invocation;
        try
        {
            invocation = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return Results.BadRequest(InvocationResponse("Invocation payload is not JSON."));
        }

        var text = MessageText(invocation?["Data"]?[RelayEventsBinding]);
        if (text is null)
        {
            return Results.BadRequest(InvocationResponse($"Data.{RelayEventsBinding} is missing."));
        }

        MessageEnvelope envelope;
        MessageBodyReference? offloadedBody;
        try
        {
            // Large events arrive as a pointer to a blob body; the channel resolves both shapes.
            (envelope, offloadedBody) = await channel.DecodeDeliveredAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        }
        catch (Exception ex) when (ex is MessageContractException or MessageBodyMissingException)
        {
            // Never readable: straight to the poison queue rather than maxDequeueCount retries.
            await QuarantineRawAsync(transport, options, text, cancellationToken);
            logger.LogWarning("Relay event rejected by the contract ({Reason}); quarantined.", ex.GetType().Name);
            return Results.Ok(InvocationResponse("Malformed relay event quarantined."));
        }

        try
        {
            var outcome = await processor.ProcessAsync(envelope, cancellationToken);
            if (RelayEventOutcomes.QuarantineReason(outcome) is { } reason)
            {
                // The poison copy is the raw text, as the host's own; the reason is in the log (the processor's warning).
                await QuarantineRawAsync(transport, options, text, cancellationToken);
                return Results.Ok(InvocationResponse($"Relay event {envelope.MessageId}: {outcome}; quarantined: {reason}"));
            }
            else
            {
                await channel.ReleaseOffloadedBodyAsync(offloadedBody, cancellationToken);
            }

            return Results.Ok(InvocationResponse($"Relay event {envelope.MessageId}: {outcome}."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Relay event {MessageId} failed ({Error}); the host will retry.", envelope.MessageId, ex.GetType().Name);
            return Results.Json(InvocationResponse($"Failed: {ex.GetType().Name}."), statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    private static async Task<IResult> HandleSweepAsync(OrchestrationSweep sweep, CancellationToken cancellationToken)
    {
        var result = await sweep.RunOnceAsync(cancellationToken);
        return Results.Ok(InvocationResponse($"Sweep: {result.TimersFired} timer(s) fired, {result.OutboxesRedispatched} outbox(es) re-dispatched."));
    }

    // The raw text as received, so an operator can re-send it unchanged; Bicep creates the poison queue in Azure.
    private static async Task QuarantineRawAsync(StorageQueueTransport transport, RuntimeOptions options, string text, CancellationToken cancellationToken)
    {
        var poison = PoisonQueues.For(options.EventsQueue);
        try
        {
            await transport.SendAsync(poison, Encoding.UTF8.GetBytes(text), null, cancellationToken);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            await transport.EnsureQueueAsync(poison, cancellationToken);
            await transport.SendAsync(poison, Encoding.UTF8.GetBytes(text), null, cancellationToken);
        }
    }

    // The host passes a queue message as a JSON string; some versions pass a JSON message as the object itself.
    private static string? MessageText(JsonNode? data) => data switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => data.ToJsonString(),
    };

    private static Dictionary<string, object?> InvocationResponse(string log) => new()
    {
        ["Outputs"] = new Dictionary<string, object?>(),
        ["Logs"] = new[] { log },
        ["ReturnValue"] = null,
    };
}
