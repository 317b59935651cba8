using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using ServerlessImaging.Contracts;
using ServerlessImaging.FunctionApp.Maintenance;
using ServerlessImaging.Orchestrators.Registrations;
using Xunit.Abstractions;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The published <c>functions.metadata</c> (what the Functions host indexes) against the code: every activity name and the
/// orchestrator have their trigger, the relay-events queue trigger reads the right queue with the right connection, and
/// every route the API pipeline serves has exactly one anonymous HTTP trigger with its method — and nothing else is there.
/// </summary>
[Collection(PublishedFunctionApp.CollectionName)]
public sealed class FunctionsMetadataTests(PublishedFunctionApp app, ITestOutputHelper output)
{
    /// <summary>Function names of the HTTP triggers of endpoints without an endpoint name (the others are "Api" + name).</summary>
    private static readonly Dictionary<string, string> UnnamedRouteFunctions = new(StringComparer.Ordinal)
    {
        ["GET openapi/{documentName}.json"] = "ApiOpenApiDocument",
        ["GET healthz"] = "Healthz",
    };

    private PublishedFunction Function(string name) => Assert.Single(app.Functions, f => f.Name == name);

    [Fact]
    public void Function_names_are_unique()
    {
        output.WriteLine($"dotnet publish --no-build: {app.PublishDuration.TotalSeconds:F1} s, {app.Functions.Count} functions.");
        var duplicates = app.Functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Fact]
    public void The_registration_orchestration_has_its_orchestration_trigger()
    {
        var orchestration = Function(RegistrationOrchestration.Name);
        Assert.Equal("orchestrationTrigger", orchestration.TriggerType);
        Assert.Single(orchestration.Bindings);
    }

    [Fact]
    public void Every_registration_activity_has_its_activity_trigger()
    {
        Assert.Equal(6, RegistrationActivities.All.Count);
        foreach (var name in RegistrationActivities.All)
        {
            var activity = Function(name);
            Assert.Equal("activityTrigger", activity.TriggerType);
            Assert.Single(activity.Bindings);
        }
    }

    [Fact]
    public void The_relay_events_trigger_reads_the_relay_events_queue_with_the_Storage_connection_and_a_durable_client()
    {
        var relayEvents = Function("RelayEvents");
        Assert.Equal("queueTrigger", relayEvents.TriggerType);
        Assert.Equal(ResourceNames.RelayEventsQueue, relayEvents.TriggerProperty("queueName"));
        Assert.Equal("Storage", relayEvents.TriggerProperty("connection"));
        Assert.Equal("Binary", relayEvents.TriggerProperty("dataType")); // the raw bytes: MessageChannel decodes envelopes and pointers
        Assert.Single(relayEvents.BindingsOfType("durableClient"));
    }

    [Fact]
    public void The_purge_of_ended_registrations_runs_hourly_on_a_timer_with_a_durable_client()
    {
        var purge = Function(PurgeSettledRegistrationsFunction.Name);
        Assert.Equal("timerTrigger", purge.TriggerType);
        Assert.Equal("0 17 * * * *", purge.TriggerProperty("schedule"));
        Assert.Single(purge.BindingsOfType("durableClient"));
    }

    [Fact]
    public void The_pipeline_serves_the_routes_the_Cloud_API_maps_and_the_liveness_probe()
    {
        var expected = ApiRoutes.MappedByCloud().Append(ApiRoutes.Liveness).Select(Key).Order(StringComparer.Ordinal).ToList();
        var served = ApiRoutes.ServedByFunctionAppPipeline().Select(Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, served);
        Assert.Contains("POST meetings/{meetingId}/registrations", served);
        Assert.True(served.Count >= 14);
    }

    [Fact]
    public void Every_served_route_has_exactly_one_anonymous_HTTP_trigger_with_its_method_and_route()
    {
        var httpFunctions = app.Functions.Where(f => f.TriggerType == "httpTrigger").ToList();
        var triggered = httpFunctions
            .SelectMany(f => f.Trigger.GetProperty("methods").EnumerateArray().Select(m => (Key: $"{m.GetString()!.ToUpperInvariant()} {f.TriggerProperty("route")}", f.Name)))
            .ToList();
        Assert.Equal(triggered.Count, triggered.Select(t => t.Key).Distinct(StringComparer.Ordinal).Count());

        var expected = ApiRoutes.ServedByFunctionAppPipeline()
            .Select(route => (Key: Key(route), Name: route.EndpointName is { } name ? "Api" + name : UnnamedRouteFunctions.GetValueOrDefault(Key(route), "(unnamed endpoint: name its function in this test)")))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, triggered.OrderBy(t => t.Key, StringComparer.Ordinal).ToList());

        foreach (var function in httpFunctions)
        {
            // The app validates JWTs itself (every route but the liveness probe), so the host asks for no function key.
            Assert.Equal(nameof(AuthorizationLevel.Anonymous), function.TriggerProperty("authLevel"), ignoreCase: true);
            Assert.Single(function.BindingsOfType("durableClient"));
            var output = Assert.Single(function.BindingsOfType("http"));
            Assert.Equal("$return", output.GetProperty("name").GetString());
        }
    }

    [Fact]
    public void There_are_no_other_functions()
    {
        var expected = RegistrationActivities.All
            .Append(RegistrationOrchestration.Name)
            .Append("RelayEvents")
            .Append(PurgeSettledRegistrationsFunction.Name)
            .Concat(app.Functions.Where(f => f.TriggerType == "httpTrigger").Select(f => f.Name))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, app.Functions.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(ApiRoutes.ServedByFunctionAppPipeline().Count, app.Functions.Count(f => f.TriggerType == "httpTrigger"));
    }

    [Fact]
    public void The_package_has_what_the_Functions_host_loads()
    {
        using var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.Directory, "worker.config.json")));
        var description = worker.RootElement.GetProperty("description");
        Assert.Equal("dotnet-isolated", description.GetProperty("language").GetString());
        Assert.Equal("ServerlessImaging.FunctionApp.dll", description.GetProperty("defaultWorkerPath").GetString());
        Assert.True(File.Exists(Path.Combine(app.Directory, "ServerlessImaging.FunctionApp.dll")));

        using var extensions = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.Directory, "extensions.json")));
        var names = extensions.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Contains("DurableTask", names);
        Assert.Contains("AzureStorageQueues", names);
        Assert.True(File.Exists(Path.Combine(app.Directory, ".azurefunctions", "Microsoft.Azure.WebJobs.Extensions.DurableTask.dll")));
    }

    private static string Key(ApiRoute route) => $"{route.Method} {route.Template}";
}
