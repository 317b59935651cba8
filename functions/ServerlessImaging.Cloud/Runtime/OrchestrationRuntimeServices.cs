using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.DicomService;
using ServerlessImaging.Adapters.Relay;
using ServerlessImaging.Adapters.Staging;
using ServerlessImaging.Contracts;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Authentication;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>Composition of the orchestration runtime shared by both hosts: adapters, activities, relay-event handling, the durable client.</summary>
public static class OrchestrationRuntimeServices
{
    // Public on purpose, like the API's development secret: only for local runs without a configured secret.
    private static readonly byte[] DevelopmentSecret = "serverless-imaging-development-pseudonymisation-key"u8.ToArray();

    /// <summary>
    /// Registers everything the runtime needs from configuration (<c>Storage</c>, <c>Cosmos</c>, <c>DicomWeb</c>,
    /// <c>Viewer</c>, <c>Sites</c>, <c>Orchestration</c> sections). Connection strings select the local stand-ins;
    /// service URIs select Azure with managed identity.
    /// </summary>
    public static IServiceCollection AddOrchestrationRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var runtime = new RuntimeOptions();
        configuration.GetSection("Orchestration").Bind(runtime);
        runtime.SiteIds = [.. (configuration["Sites:Ids"] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        services.AddSingleton(runtime);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(FaultInjection.FromEnvironment());
        services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential());

        var storageConnection = configuration["Storage:ConnectionString"];
        var local = !string.IsNullOrWhiteSpace(storageConnection);

        // Storage: queues through the Messaging channel, staging, message bodies and instance lists in blobs.
        services.AddSingleton(sp => local
            ? new BlobServiceClient(storageConnection)
            : new BlobServiceClient(RequiredUri(configuration, "Storage:BlobServiceUri"), sp.GetRequiredService<TokenCredential>()));
        services.AddSingleton(sp => local
            ? new StorageQueueTransport(storageConnection!)
            : new StorageQueueTransport(RequiredUri(configuration, "Storage:QueueServiceUri"), sp.GetRequiredService<TokenCredential>()));
        services.AddSingleton(sp => new MessageChannel(
            sp.GetRequiredService<StorageQueueTransport>(),
            new BlobMessageBodyStore(sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(ResourceNames.MessageBodiesContainer)),
            new MessageChannelOptions
            {
                CreateQueuesIfMissing = local,
                VisibilityTimeout = runtime.EventsVisibilityTimeout,
                // Never below 10 ms: a zero setting would spin on an empty queue.
                MinPollInterval = TimeSpan.FromMilliseconds(Math.Clamp(runtime.EventsMaxPollInterval.TotalMilliseconds, 10, 100)),
                MaxPollInterval = TimeSpan.FromMilliseconds(Math.Max(runtime.EventsMaxPollInterval.TotalMilliseconds, 10)),
            },
            sp.GetRequiredService<ILogger<MessageChannel>>()));
        services.AddSingleton<RelayQueueDepths>();
        services.AddSingleton(sp => new StorageQueueRelayChannel(sp.GetRequiredService<MessageChannel>(), runtime.SiteIds, runtime.EventsQueueFor));
        services.AddSingleton<IRelayMessageChannel>(sp => sp.GetRequiredService<StorageQueueRelayChannel>());
        services.AddSingleton<IRelayEventQuarantine>(sp => sp.GetRequiredService<StorageQueueRelayChannel>());
        services.AddSingleton(sp => new BlobStagingStore(sp.GetRequiredService<BlobServiceClient>(), runtime.SiteIds));
        services.AddSingleton<IStagingStore>(sp => sp.GetRequiredService<BlobStagingStore>());
        services.AddSingleton(sp => new BlobStagedInstanceListStore(sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(ResourceNames.InstanceListsContainer)));
        services.AddSingleton<IStagedInstanceListStore>(sp => sp.GetRequiredService<BlobStagedInstanceListStore>());

        // Cosmos DB: the registrations' read model (with their study transfers' progress) and start requests, meetings.
        var cosmos = new CosmosOptions { CreateIfMissing = local };
        configuration.GetSection("Cosmos").Bind(cosmos);
        services.AddSingleton(cosmos);
        services.TryAddSingleton(sp => CosmosClientFactory.Create(cosmos, string.IsNullOrWhiteSpace(cosmos.ConnectionString) ? sp.GetRequiredService<TokenCredential>() : null));
        services.AddSingleton(sp => new CosmosRegistrationViewStore(RegistrationsContainer(sp), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IRegistrationViewStore>(sp => sp.GetRequiredService<CosmosRegistrationViewStore>());
        services.AddSingleton<IStudyTransferProgressStore>(sp => sp.GetRequiredService<CosmosRegistrationViewStore>());
        services.AddSingleton<IStartRequestIndex>(sp => sp.GetRequiredService<CosmosRegistrationViewStore>());
        services.AddSingleton<IMeetingRegistrationIndex>(sp => sp.GetRequiredService<CosmosRegistrationViewStore>());
        services.AddSingleton<ISiteSearchWaitIndex>(sp => sp.GetRequiredService<CosmosRegistrationViewStore>());
        services.AddSingleton<IMeetingStore>(sp => new CosmosMeetingStore(sp.GetRequiredService<CosmosClient>().GetContainer(cosmos.DatabaseName, "meetings")));
        services.AddHostedService<StorageAndDatabaseInitializer>();

        // DICOM service.
        services.AddSingleton(sp =>
        {
            var scope = configuration["DicomWeb:TokenScope"];
            return DicomWebClient.Create(new DicomWebClientOptions
            {
                BaseAddress = RequiredUri(configuration, "DicomWeb:BaseUrl"),
                Authentication = string.IsNullOrWhiteSpace(scope) ? DicomWebAuthentication.None : DicomWebAuthentication.FromTokenCredential(sp.GetRequiredService<TokenCredential>(), scope),
            });
        });
        services.AddSingleton(sp => new DicomWebStore(
            sp.GetRequiredService<DicomWebClient>(),
            configuration["Viewer:StudyUrlTemplate"] ?? RequiredUri(configuration, "DicomWeb:BaseUrl") + "studies/" + DicomWebStore.StudyUidPlaceholder,
            Uri.TryCreate(configuration["DicomWeb:OrthancRestUrl"], UriKind.Absolute, out var orthanc) ? orthanc : null));
        services.AddSingleton<IDicomStore>(sp => sp.GetRequiredService<DicomWebStore>());
        services.AddSingleton<IDicomInventory>(sp => sp.GetRequiredService<DicomWebStore>());

        // Fallbacks the HTTP API side replaces with its Cosmos audit trail and SMTP sender.
        services.TryAddSingleton<IAuditSink, LoggingAuditSink>();
        services.TryAddSingleton<IEmailSender, UnconfiguredEmailSender>();
        services.TryAddSingleton<IExpertiseEmailComposer, PlainExpertiseEmailComposer>();
        services.TryAddSingleton<PatientKeyFunction>(sp =>
        {
            var configured = configuration["Identity:PseudonymisationSecret"];
            var secret = !string.IsNullOrWhiteSpace(configured) ? Convert.FromBase64String(configured)
                : local ? DevelopmentSecret
                : throw new InvalidOperationException("Identity__PseudonymisationSecret is required outside local runs.");
            return patient => PseudonymousPatientKey.Compute(patient, secret);
        });

        // Activities, relay-event handling, the durable client (the host provides the Durable Task engine and its client).
        services.AddSingleton<StagedInstanceInspector>();
        services.AddSingleton<StoreStudyActivityRunner>();
        services.AddSingleton<StudyRemovalActivityRunner>();
        services.AddSingleton<ExpertiseEmailActivityRunner>();
        services.TryAddSingleton(_ => Api.Delivery.DeliverySourceTokens.FromConfiguration(configuration, local));
        services.AddSingleton(_ => new DeliverySource(Api.Delivery.DeliverySourceTokens.SourceBaseUrl(configuration, local)));
        services.AddSingleton(sp => new ManifestPublishActivityRunner(
            sp.GetRequiredService<IDicomStore>(), sp.GetRequiredService<IDicomInventory>(), RequiredUri(configuration, "DicomWeb:BaseUrl"), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ManifestPublishActivityRunner>>()));
        services.AddSingleton<RelayCommandSender>();
        services.AddSingleton<CommitRegistrationStepTask>();
        services.AddSingleton<CommitStudyTransferStepTask>();
        services.AddSingleton<StoreStudyTask>();
        services.AddSingleton<StoreStagedInstancesTask>();
        services.AddSingleton<DeleteStudyTask>();
        services.AddSingleton<PurgeStudiesTask>();
        services.AddSingleton<SendExpertiseEmailTask>();
        services.AddSingleton<PublishManifestTask>();
        services.AddSingleton<DurableClientHolder>();
        services.AddSingleton<SettledRegistrationPurge>();
        services.AddAtnaAuditExport(configuration);
        services.AddSingleton<RelayEventMetrics>();
        services.AddSingleton<RelayEventProcessor>();
        services.TryAddSingleton<RegistrationViewChanges>();
        services.AddSingleton<RegistrationOrchestrationClient>();
        services.AddSingleton<IRegistrationOrchestrationClient>(sp => sp.GetRequiredService<RegistrationOrchestrationClient>());
        services.AddSingleton<IRegistrationEventSink>(sp => sp.GetRequiredService<RegistrationOrchestrationClient>());
        return services;
    }

    private static Container RegistrationsContainer(IServiceProvider services) =>
        services.GetRequiredService<CosmosClient>().GetContainer(services.GetRequiredService<CosmosOptions>().DatabaseName, "registrations");

    private static Uri RequiredUri(IConfiguration configuration, string key) =>
        Uri.TryCreate(configuration[key], UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Setting {key.Replace(":", "__", StringComparison.Ordinal)} is missing or not an absolute URI.");
}

/// <summary>Local runs: creates the Cosmos database and containers and the blob containers before anything uses them.</summary>
internal sealed class StorageAndDatabaseInitializer(CosmosOptions cosmos, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!cosmos.CreateIfMissing)
        {
            return;
        }

        await CosmosClientFactory.EnsureCreatedAsync(services.GetRequiredService<CosmosClient>(), cosmos.DatabaseName, cancellationToken);
        var blobs = services.GetRequiredService<BlobServiceClient>();
        await services.GetRequiredService<BlobStagingStore>().EnsureCreatedAsync(cancellationToken);
        await blobs.GetBlobContainerClient(ResourceNames.MessageBodiesContainer).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await services.GetRequiredService<BlobStagedInstanceListStore>().EnsureCreatedAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Audit fallback when no audit store is registered: logs the action with ids and the pseudonymous key only.</summary>
public sealed class LoggingAuditSink(ILogger<LoggingAuditSink> logger) : IAuditSink
{
    /// <inheritdoc />
    public Task WriteAsync(WriteAuditActivity record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        logger.LogInformation("Audit {Action} {Outcome} registration {RegistrationId} patient {PatientKey} site {SiteId}.", record.Action, record.Outcome, record.RegistrationId, record.PatientKey, record.SiteId);
        return Task.CompletedTask;
    }
}

/// <summary>E-mail fallback when no sender is configured: refuses (a transient failure), so the e-mail is retried, not lost.</summary>
public sealed class UnconfiguredEmailSender : IEmailSender
{
    /// <inheritdoc />
    public Task<EmailDelivery> SendAsync(EmailMessage message, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("No e-mail sender is configured (Smtp__Host).");
}
