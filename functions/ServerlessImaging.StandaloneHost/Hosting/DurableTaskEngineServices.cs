using Azure.Core;
using DurableTask.AzureStorage;
using Microsoft.DurableTask.Client;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>Composition of the standalone host's Durable Task engine (section <c>DurableTask</c>, storage from <c>Storage</c>).</summary>
public static class DurableTaskEngineServices
{
    /// <summary>
    /// Registers the engine (started and stopped with the host) and its client. With <c>Storage__ConnectionString</c>
    /// (Azurite) the task hub is created there; otherwise on <c>Storage__BlobServiceUri</c>, <c>__QueueServiceUri</c> and
    /// <c>__TableServiceUri</c> with the managed identity. Register after <c>AddOrchestrationRuntime</c>.
    /// </summary>
    public static IServiceCollection AddDurableTaskEngine(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new DurableTaskEngineOptions();
        configuration.GetSection("DurableTask").Bind(options);
        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var connection = configuration["Storage:ConnectionString"];
            var storage = !string.IsNullOrWhiteSpace(connection)
                ? new StorageAccountClientProvider(connection)
                : new StorageAccountClientProvider(
                    RequiredUri(configuration, "Storage:BlobServiceUri"),
                    RequiredUri(configuration, "Storage:QueueServiceUri"),
                    RequiredUri(configuration, "Storage:TableServiceUri"),
                    sp.GetRequiredService<TokenCredential>());
            var engine = new DurableTaskEngine(options, storage, options.EffectiveHubName(sp.GetRequiredService<CosmosOptions>().DatabaseName), sp, sp.GetRequiredService<ILoggerFactory>());
            sp.GetRequiredService<DurableClientHolder>().Provide(engine.Client);
            return engine;
        });

        // Started before the relay-events listener (hosted services start in registration order).
        services.AddHostedService(sp => sp.GetRequiredService<DurableTaskEngine>());
        services.AddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<DurableTaskEngine>().Client);
        return services;
    }

    private static Uri RequiredUri(IConfiguration configuration, string key) =>
        Uri.TryCreate(configuration[key], UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Setting {key.Replace(":", "__", StringComparison.Ordinal)} is missing or not an absolute URI.");
}
