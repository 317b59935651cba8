using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts;
using ServerlessImaging.StandaloneHost.Hosting;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>
/// Settings of one test's runtime on the local stand-ins: its own Cosmos database, events queue and site ids, so
/// tests (and other projects' tests) sharing the stack never see each other's messages or documents.
/// </summary>
internal sealed class RuntimeSettings
{
    public RuntimeSettings(StackEndpoints endpoints, IReadOnlyList<string> siteIds)
    {
        Endpoints = endpoints;
        SiteIds = siteIds;
    }

    public StackEndpoints Endpoints { get; }

    public IReadOnlyList<string> SiteIds { get; }

    public string DatabaseName { get; } = UniqueNames.CosmosDatabase("runtime");

    /// <summary>This run's prefix of the sites' events queues (the app reads <c>&lt;prefix&gt;&lt;site&gt;</c> for each site).</summary>
    public string EventsQueuePrefix { get; } = UniqueNames.QueuePrefix("events");

    /// <summary>The events queue of <paramref name="siteId"/>: where its relay sends.</summary>
    public string EventsQueueFor(string siteId) => EventsQueuePrefix + siteId;

    public TimeSpan FindTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan UnreachableRetryInterval { get; init; } = TimeSpan.FromMinutes(10);

    public int StoreBatchSize { get; init; } = 50;

    /// <summary>More configuration keys (colon form) for one test; they replace the defaults above.</summary>
    public Dictionary<string, string?> Extra { get; init; } = [];

    /// <summary>Configuration keys (colon form) with their values.</summary>
    public Dictionary<string, string?> ToConfiguration() => new Dictionary<string, string?>
    {
        ["Storage:ConnectionString"] = Endpoints.Storage.ConnectionString,
        ["Cosmos:ConnectionString"] = Endpoints.Cosmos.ConnectionString,
        ["Cosmos:DatabaseName"] = DatabaseName,
        ["Cosmos:CreateIfMissing"] = "true",
        ["DicomWeb:BaseUrl"] = Endpoints.DicomService.DicomWebBaseUrl.ToString(),
        ["DicomWeb:OrthancRestUrl"] = Endpoints.DicomService.HttpUrl.ToString(),
        ["Viewer:StudyUrlTemplate"] = "https://viewer.example.org/studies/{StudyInstanceUID}",
        ["Sites:Ids"] = string.Join(',', SiteIds),
        ["Orchestration:EventsQueuePrefix"] = EventsQueuePrefix,
        ["DurableTask:MaxQueuePollingInterval"] = "00:00:00.250",
        ["DurableTask:WorkItemVisibilityTimeout"] = "00:00:15",
        ["DurableTask:PartitionCount"] = "2",
        ["Orchestration:FindTimeout"] = FindTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        ["Orchestration:UnreachableRetryInterval"] = UnreachableRetryInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        ["Orchestration:StoreBatchSize"] = StoreBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:ServerlessImaging"] = "Information",
    }.Where(kv => !Extra.ContainsKey(kv.Key)).Concat(Extra).ToDictionary();

    /// <summary>The same settings as environment variables (<c>Section__Key</c>) for a child process.</summary>
    public Dictionary<string, string?> ToEnvironment() =>
        ToConfiguration().ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

    /// <summary>A unique, queue-name-safe site id.</summary>
    public static string NewSiteId(string purpose) => UniqueNames.Queue(purpose);
}

/// <summary>
/// The runtime hosted in the test process (the same composition Program.cs uses): with workers, the Durable Task
/// worker and the relay-events listener; without, the durable client only (another process does the work).
/// </summary>
internal sealed class RuntimeHarness : IAsyncDisposable
{
    private readonly IHost _host;

    private RuntimeHarness(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<RuntimeHarness> StartAsync(RuntimeSettings settings, bool withWorkers, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.ToConfiguration());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["DurableTask:RunWorker"] = withWorkers ? "true" : "false" });
        builder.Services.AddLogging(logging => logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole());
        configure?.Invoke(builder.Services);
        builder.Services.AddOrchestrationRuntime(builder.Configuration);
        builder.Services.AddDurableTaskEngine(builder.Configuration);
        if (withWorkers)
        {
            builder.Services.AddStandaloneWorkers();
        }

        var host = builder.Build();
        await host.StartAsync();
        return new RuntimeHarness(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }

    /// <summary>The command queue of a site (what the scripted relay listens to).</summary>
    public static string CommandQueue(string siteId) => ResourceNames.CommandQueueFor(siteId);
}
