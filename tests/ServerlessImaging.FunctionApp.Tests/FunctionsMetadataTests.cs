using System.Text.Json;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Azure.Functions.Worker;
using ServerlessImaging.Contracts;
using ServerlessImaging.FunctionApp.Maintenance;
using ServerlessImaging.FunctionApp.RelayEvents;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;
using Xunit.Abstractions;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The published <c>functions.metadata</c> (what the Functions host indexes) against the code: every activity name and the
/// orchestrator have their trigger, the relay-events queue trigger is listed once per site on that site's queue, and
/// every route the API pipeline serves has exactly one anonymous HTTP trigger with its method — and nothing else is there.
/// </summary>
[Collection(PublishedFunctionApp.CollectionName)]
public sealed class FunctionsMetadataTests(PublishedFunctionApp app, WorkerHost worker, ITestOutputHelper output) : IClassFixture<WorkerHost>
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

    [Theory]
    [InlineData(RegistrationOrchestration.Name)]
    [InlineData(StudyTransferOrchestration.Name)]
    public void Each_orchestration_has_its_orchestration_trigger(string name)
    {
        var orchestration = Function(name);
        Assert.Equal("orchestrationTrigger", orchestration.TriggerType);
        Assert.Single(orchestration.Bindings);
    }

    [Fact]
    public void The_study_transfer_step_activity_has_its_activity_trigger()
    {
        var activity = Function(StudyTransferActivities.CommitStep);
        Assert.Equal("activityTrigger", activity.TriggerType);
        Assert.Single(activity.Bindings);
    }

    [Fact]
    public void Every_registration_activity_has_its_activity_trigger()
    {
        Assert.Equal(7, RegistrationActivities.All.Count);
        foreach (var name in RegistrationActivities.All)
        {
            var activity = Function(name);
            Assert.Equal("activityTrigger", activity.TriggerType);
            Assert.Single(activity.Bindings);
        }
    }

    [Fact]
    public void The_relay_events_trigger_is_declared_once_on_a_template_queue_with_the_Storage_connection_and_a_durable_client()
    {
        var relayEvents = Function(PerSiteRelayEventTriggers.TemplateFunctionName);
        Assert.Equal("queueTrigger", relayEvents.TriggerType);
        Assert.Equal(PerSiteRelayEventTriggers.TemplateQueue, relayEvents.TriggerProperty("queueName"));
        Assert.Equal("Storage", relayEvents.TriggerProperty("connection"));
        Assert.Equal("Binary", relayEvents.TriggerProperty("dataType")); // the raw bytes: MessageChannel decodes envelopes and pointers
        Assert.Single(relayEvents.BindingsOfType("durableClient"));
    }

    [Fact]
    public void The_worker_lists_one_relay_events_trigger_per_site_on_that_sites_events_queue_in_place_of_the_template()
    {
        // What the worker answers the host's metadata request with: the published functions, through the worker's transformers.
        var template = Function(PerSiteRelayEventTriggers.TemplateFunctionName);
        var other = Function(RegistrationOrchestration.Name);
        IList<IFunctionMetadata> listed = [Metadata(template), Metadata(other)];
        var transformers = worker.Services.GetServices<IFunctionMetadataTransformer>().ToList();
        Assert.Single(transformers.OfType<PerSiteRelayEventTriggers>());
        foreach (var transformer in transformers)
        {
            transformer.Transform(listed);
        }

        Assert.Equal(
            WorkerHost.SiteIds.Select(site => PerSiteRelayEventTriggers.FunctionNamePrefix + site).Append(RegistrationOrchestration.Name).Order(StringComparer.Ordinal),
            listed.Select(f => f.Name!).Order(StringComparer.Ordinal));
        foreach (var site in WorkerHost.SiteIds)
        {
            var function = Assert.Single(listed, f => f.Name == PerSiteRelayEventTriggers.FunctionNamePrefix + site);
            var bindings = function.RawBindings!.Select(b => JsonDocument.Parse(b).RootElement).ToList();
            var trigger = Assert.Single(bindings, b => b.GetProperty("type").GetString() == "queueTrigger");
            Assert.Equal(ResourceNames.EventsQueueFor(site), trigger.GetProperty("queueName").GetString());
            Assert.Equal("Storage", trigger.GetProperty("connection").GetString());
            Assert.Equal("Binary", trigger.GetProperty("dataType").GetString());
            Assert.Single(bindings, b => b.GetProperty("type").GetString() == "durableClient");
            Assert.Equal(Metadata(template).EntryPoint, function.EntryPoint); // the one RelayEventsFunction runs for every site
            Assert.Equal(site, PerSiteRelayEventTriggers.SiteOf(function.Name!));
        }

        // The host tells invocations apart by function id.
        Assert.Equal(listed.Count, listed.Select(f => f.FunctionId).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_site_list_with_an_invalid_site_id_fails_at_composition_and_a_function_that_is_no_site_trigger_names_no_site()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sites:Ids"] = "chu-nord,Bad_Site" }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => PerSiteRelayEventTriggers.FromConfiguration(configuration));
        Assert.Contains("'Bad_Site' is not a site id", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => PerSiteRelayEventTriggers.SiteOf(PerSiteRelayEventTriggers.TemplateFunctionName));
        Assert.Throws<InvalidOperationException>(() => PerSiteRelayEventTriggers.SiteOf("ApiGetRegistration"));
    }

    private static DefaultFunctionMetadata Metadata(PublishedFunction function) => new()
    {
        Name = function.Name,
        EntryPoint = function.EntryPoint,
        ScriptFile = "ServerlessImaging.FunctionApp.dll",
        Language = "dotnet-isolated",
        RawBindings = [.. function.Bindings.Select(b => b.GetRawText())],
    };

    [Fact]
    public void The_purge_of_ended_registrations_runs_hourly_on_a_timer_with_a_durable_client()
    {
        var purge = Function(PurgeSettledRegistrationsFunction.Name);
        Assert.Equal("timerTrigger", purge.TriggerType);
        Assert.Equal("0 17 * * * *", purge.TriggerProperty("schedule"));
        Assert.Single(purge.BindingsOfType("durableClient"));
    }

    [Fact]
    public void The_ATNA_export_runs_every_minute_on_a_timer_without_other_bindings()
    {
        var export = Function(ExportAuditToAtnaFunction.Name);
        Assert.Equal("timerTrigger", export.TriggerType);
        Assert.Equal(ExportAuditToAtnaFunction.Schedule, export.TriggerProperty("schedule"));
        Assert.Equal("0 * * * * *", export.TriggerProperty("schedule"));
        Assert.Single(export.Bindings);
    }

    [Fact]
    public void The_pipeline_serves_the_routes_the_Cloud_API_maps_and_the_liveness_probe()
    {
        var expected = ApiRoutes.MappedByCloud().Append(ApiRoutes.Liveness).Select(Key).Order(StringComparer.Ordinal).ToList();
        var served = ApiRoutes.ServedByFunctionAppPipeline().Select(Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, served);
        Assert.Contains("POST meetings/{meetingId}/registrations", served);
        Assert.Contains("GET meetings/{meetingId}/registrations", served);
        Assert.True(served.Count >= 15);
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
    public void Only_the_liveness_probe_is_anonymous_every_other_forwarded_route_is_authorized_by_the_pipeline()
    {
        // The host asks for no function key (authLevel anonymous, asserted above), so what protects a route is the pipeline's
        // authorization: every route an HTTP trigger forwards must be a pipeline endpoint, and only the probe may allow anonymous.
        var served = ApiRoutes.ServedByFunctionAppPipeline().ToDictionary(Key, StringComparer.Ordinal);
        var anonymous = new List<string>();
        foreach (var function in app.Functions.Where(f => f.TriggerType == "httpTrigger"))
        {
            foreach (var method in function.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()))
            {
                var key = $"{method} {function.TriggerProperty("route")}";
                Assert.True(served.TryGetValue(key, out var route), $"{function.Name} forwards {key}, which no pipeline endpoint serves (the fallback policy would still refuse it)");
                if (route.AllowsAnonymous)
                {
                    anonymous.Add($"{function.Name}: {key}");
                }
            }
        }

        Assert.Equal(["Healthz: GET healthz"], anonymous);
    }

    [Fact]
    public void The_old_custom_handler_routes_are_gone_relay_events_arrive_by_queue_only()
    {
        static bool Legacy(string? text) =>
            text is not null && (text.Contains("RelayEvents", StringComparison.OrdinalIgnoreCase) || text.Contains("OrchestrationSweep", StringComparison.OrdinalIgnoreCase));

        Assert.DoesNotContain(app.Functions, f => f.TriggerType == "httpTrigger" && (Legacy(f.Name) || Legacy(f.TriggerProperty("route"))));
        var relayEvents = app.Functions.Where(f => f.Name.StartsWith("RelayEvents", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(relayEvents);
        Assert.All(relayEvents, f => Assert.Equal("queueTrigger", f.TriggerType));
        Assert.DoesNotContain(app.Functions, f => f.Name.Contains("Sweep", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void There_are_no_other_functions()
    {
        var expected = RegistrationActivities.All
            .Append(RegistrationOrchestration.Name)
            .Append(StudyTransferOrchestration.Name)
            .Append(StudyTransferActivities.CommitStep)
            .Append("RelayEvents")
            .Append(PurgeSettledRegistrationsFunction.Name)
            .Append(ExportAuditToAtnaFunction.Name)
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
