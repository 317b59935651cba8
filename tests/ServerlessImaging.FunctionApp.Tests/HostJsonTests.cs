using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The published <c>host.json</c> (the repository root's, linked into the app): an isolated-worker app's (no custom
/// handler, no extension bundle), the API's routes unprefixed, the relay-events queue settings, and the Durable task hub
/// on the Azure Storage backend through the <c>Storage</c> connection, named as the infrastructure names it.
/// </summary>
[Collection(PublishedFunctionApp.CollectionName)]
public sealed class HostJsonTests(PublishedFunctionApp app)
{
    private JsonElement Extensions => app.HostJson.GetProperty("extensions");

    [Fact]
    public void The_published_host_json_is_the_repository_root_one()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(app.RepositoryRoot, "host.json")), File.ReadAllText(Path.Combine(app.Directory, "host.json")));
        Assert.Equal("2.0", app.HostJson.GetProperty("version").GetString());
    }

    [Fact]
    public void It_configures_an_isolated_worker_app_not_a_custom_handler()
    {
        Assert.False(app.HostJson.TryGetProperty("customHandler", out _));
        Assert.False(app.HostJson.TryGetProperty("extensionBundle", out _)); // the worker's own extensions (.azurefunctions/) are loaded
    }

    [Fact]
    public void The_host_emits_OpenTelemetry_like_the_worker()
    {
        // The worker exports through OpenTelemetry (UseFunctionsWorkerDefaults); the host does too, so both correlate.
        Assert.Equal("OpenTelemetry", app.HostJson.GetProperty("telemetryMode").GetString());
    }

    [Fact]
    public void Routes_have_no_prefix_so_they_are_the_standalone_hosts()
    {
        Assert.Equal(string.Empty, Extensions.GetProperty("http").GetProperty("routePrefix").GetString());
    }

    [Fact]
    public void The_queue_trigger_settings_are_kept()
    {
        var queues = Extensions.GetProperty("queues");
        Assert.Equal("00:00:02", queues.GetProperty("maxPollingInterval").GetString());
        Assert.Equal(5, queues.GetProperty("maxDequeueCount").GetInt32());
        Assert.Equal("00:00:30", queues.GetProperty("visibilityTimeout").GetString());
        Assert.Equal(16, queues.GetProperty("batchSize").GetInt32());
    }

    [Fact]
    public void The_durable_task_hub_runs_on_Azure_Storage_through_the_Storage_connection()
    {
        var durable = Extensions.GetProperty("durableTask");
        Assert.Equal("ServerlessImaging", durable.GetProperty("hubName").GetString());
        Assert.True(durable.GetProperty("extendedSessionsEnabled").GetBoolean());
        var storage = durable.GetProperty("storageProvider");
        Assert.Equal("AzureStorage", storage.GetProperty("type").GetString());
        Assert.Equal("Storage", storage.GetProperty("connectionName").GetString());
        var polling = TimeSpan.Parse(storage.GetProperty("maxQueuePollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(polling, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_task_hub_and_the_events_queues_are_the_ones_the_infrastructure_creates()
    {
        var types = File.ReadAllText(Path.Combine(app.RepositoryRoot, "infra", "types.bicep"));
        Assert.Equal(Extensions.GetProperty("durableTask").GetProperty("hubName").GetString(), BicepVariable(types, "durableTaskHub"));
        Assert.Equal(ResourceNames.EventsQueuePrefix, BicepVariable(types, "eventsQueuePrefix"));
    }

    private static string BicepVariable(string bicep, string name) =>
        Regex.Match(bicep, $@"^var {Regex.Escape(name)} = '([^']*)'", RegexOptions.Multiline) is { Success: true } match
            ? match.Groups[1].Value
            : throw new Xunit.Sdk.XunitException($"infra/types.bicep has no string variable {name}.");
}
