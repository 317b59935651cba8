using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>Builds the relay's message channel from its options: connection string locally, Entra ID credential in Azure.</summary>
public static class ChannelSetup
{
    /// <summary>Creates the channel; <paramref name="onQuarantined"/> reports poison commands.</summary>
    public static MessageChannel Create(RelayOptions options, ILoggerFactory loggers, Func<PoisonReport, CancellationToken, Task>? onQuarantined)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Channel;
        IMessageTransport transport;
        BlobContainerClient? bodies = null;
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            transport = new StorageQueueTransport(settings.ConnectionString);
            bodies = new BlobContainerClient(settings.ConnectionString, ResourceNames.MessageBodiesContainer);
        }
        else
        {
            var credential = Credential(settings);
            transport = new StorageQueueTransport(settings.QueueServiceUri!, credential);
            if (settings.BlobServiceUri is { } blobs)
            {
                bodies = new BlobServiceClient(blobs, credential).GetBlobContainerClient(ResourceNames.MessageBodiesContainer);
            }
        }

        var store = bodies is null ? null : new BlobMessageBodyStore(bodies) { CreateContainerIfMissing = settings.CreateIfMissing };
        return new MessageChannel(transport, store, new MessageChannelOptions
        {
            VisibilityTimeout = TimeSpan.FromSeconds(settings.VisibilityTimeoutSeconds),
            MaxDeliveries = settings.MaxDeliveries,
            MinPollInterval = TimeSpan.FromMilliseconds(Math.Min(100, settings.MaxPollIntervalMilliseconds)),
            MaxPollInterval = TimeSpan.FromMilliseconds(settings.MaxPollIntervalMilliseconds),
            CreateQueuesIfMissing = settings.CreateIfMissing,
            BatchSize = Math.Clamp(options.MaxConcurrentCommands + options.MaxConcurrentSearches, 1, 32),
            OnQuarantined = onQuarantined,
        }, loggers.CreateLogger<MessageChannel>());
    }

    private static TokenCredential Credential(ChannelSettings settings) => settings.Credential switch
    {
        "ManagedIdentity" => new ManagedIdentityCredential(settings.ClientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(settings.ClientId)),
        "ClientCertificate" => new ClientCertificateCredential(settings.TenantId, settings.ClientId, settings.CertificatePath),
        _ => new DefaultAzureCredential(),
    };
}
