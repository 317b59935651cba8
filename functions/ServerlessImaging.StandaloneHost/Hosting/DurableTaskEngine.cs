using System.Net.Sockets;
using Azure.Core;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker.Shims;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;
using CoreActivity = DurableTask.Core.TaskActivity;
using CoreOrchestration = DurableTask.Core.TaskOrchestration;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>Settings of the standalone host's Durable Task engine (section <c>DurableTask</c>).</summary>
public sealed class DurableTaskEngineOptions
{
    /// <summary>
    /// Task hub (queues, tables and blob containers in the storage account). Default: the Cosmos database name with
    /// everything but letters and digits removed, so two deployments (or two tests) sharing one storage account never
    /// share a hub.
    /// </summary>
    public string? HubName { get; set; }

    /// <summary>Control-queue partitions (orchestrations are spread over them; one process owns each partition at a time).</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>
    /// How long a received activity or orchestration message stays hidden: work held by a killed process is taken up by
    /// another after this (locks of running activities are renewed meanwhile). Bounds crash recovery.
    /// </summary>
    public TimeSpan WorkItemVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait between two polls of an idle queue: how late work is seen once things go quiet.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Activities run at once by this process.</summary>
    public int MaxConcurrentActivities { get; set; } = 16;

    /// <summary>Orchestration episodes run at once by this process.</summary>
    public int MaxConcurrentOrchestrations { get; set; } = 32;

    /// <summary>Run the worker (orchestrations, activities, timers); false for a process that only starts and queries them.</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>How often the history of ended registrations (completed after their retention purge) is removed from the task hub.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Keep an orchestration's history in memory between its episodes (fewer storage reads per event).</summary>
    public bool ExtendedSessions { get; set; } = true;

    /// <summary>The hub name in force: <see cref="HubName"/>, or one derived from <paramref name="databaseName"/>.</summary>
    public string EffectiveHubName(string databaseName)
    {
        var name = HubName ?? new string([.. databaseName.Where(char.IsAsciiLetterOrDigit)]);
        name = name.Length > 45 ? name[..45] : name;
        return name.Length >= 3 && char.IsAsciiLetter(name[0]) ? name : "si" + name.PadRight(1, '0');
    }
}

/// <summary>
/// The standalone host's Durable Task engine: the Durable Task Framework's Azure Storage backend (Azurite locally, the
/// app's storage account in a container deployment) runs the registration orchestration and its activities through
/// the worker's shim (<see cref="DurableTaskShimFactory"/>, the class the Functions Durable extension uses too), and a
/// <see cref="DurableTaskClient"/> reaches it through the in-process gRPC API server on a Unix socket only this user can
/// open. A process started without the worker (a client-only test host) serves the client alone.
/// </summary>
public sealed class DurableTaskEngine : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider services;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger<DurableTaskEngine> logger;
    private readonly AzureStorageOrchestrationService orchestrationService;
    private readonly string socketPath;
    private readonly GrpcChannel channel;
    private readonly bool runWorker;
    private WebApplication? apiServer;
    private TaskHubWorker? worker;

    /// <summary>Creates the engine (nothing runs until <see cref="StartAsync"/>).</summary>
    public DurableTaskEngine(DurableTaskEngineOptions options, StorageAccountClientProvider storage, string hubName, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.services = services;
        this.loggerFactory = loggerFactory;
        runWorker = options.RunWorker;
        logger = loggerFactory.CreateLogger<DurableTaskEngine>();
        HubName = hubName;
        orchestrationService = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = hubName,
            StorageAccountClientProvider = storage,
            PartitionCount = options.PartitionCount,
            WorkItemQueueVisibilityTimeout = options.WorkItemVisibilityTimeout,
            ControlQueueVisibilityTimeout = options.WorkItemVisibilityTimeout,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            ExtendedSessionsEnabled = options.ExtendedSessions,
            LoggerFactory = loggerFactory,
        });

        // The API server listens on a socket file of this process (mode 0600), so no other user can drive orchestrations.
        socketPath = Path.Combine(Path.GetTempPath(), $"si-durable-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        channel = GrpcChannel.ForAddress("http://durable-task.local", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });
        Client = new GrpcDurableTaskClient("registrations", new GrpcDurableTaskClientOptions { Channel = channel }, loggerFactory.CreateLogger<GrpcDurableTaskClient>());
    }

    /// <summary>The task hub in use.</summary>
    public string HubName { get; }

    /// <summary>The client (usable once the engine started).</summary>
    public DurableTaskClient Client { get; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await orchestrationService.CreateIfNotExistsAsync();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton<IOrchestrationService>(orchestrationService);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(orchestrationService);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        builder.Services.Configure<TaskHubGrpcServerOptions>(server => server.Mode = TaskHubGrpcServerMode.ApiServerOnly);
        apiServer = builder.Build();
        apiServer.MapGrpcService<TaskHubGrpcServer>();
        await apiServer.StartAsync(cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (runWorker)
        {
            var shims = new DurableTaskShimFactory(null, loggerFactory);
            worker = new TaskHubWorker(orchestrationService, loggerFactory);
            worker.AddTaskOrchestrations(
                new Creator<CoreOrchestration>(RegistrationOrchestration.Name, () => shims.CreateOrchestration(RegistrationOrchestration.Name, new RegistrationOrchestration())),
                new Creator<CoreOrchestration>(StudyTransferOrchestration.Name, () => shims.CreateOrchestration(StudyTransferOrchestration.Name, new StudyTransferOrchestration())));
            worker.AddTaskActivities(
                Activity<CommitRegistrationStepTask>(shims, RegistrationActivities.CommitStep),
                Activity<CommitStudyTransferStepTask>(shims, StudyTransferActivities.CommitStep),
                Activity<StoreStudyTask>(shims, RegistrationActivities.StoreStudy),
                Activity<StoreStagedInstancesTask>(shims, RegistrationActivities.StoreStagedInstances),
                Activity<DeleteStudyTask>(shims, RegistrationActivities.DeleteStudy),
                Activity<PurgeStudiesTask>(shims, RegistrationActivities.PurgeStudies),
                Activity<SendExpertiseEmailTask>(shims, RegistrationActivities.SendExpertiseEmail),
                Activity<PublishManifestTask>(shims, RegistrationActivities.PublishManifest));
            await worker.StartAsync();
        }

        logger.LogInformation("Durable Task engine started: task hub {HubName}, worker {Worker}.", HubName, runWorker ? "on" : "off (client only)");
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (worker is not null)
        {
            // Not forced: running activities finish (or are abandoned when the host's shutdown timeout ends first). The
            // worker stops the orchestration service too; a client-only engine never started it.
            await worker.StopAsync(isForced: false);
            worker = null;
        }

        if (apiServer is not null)
        {
            await apiServer.StopAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        channel.Dispose();
        if (apiServer is not null)
        {
            await apiServer.DisposeAsync();
        }

        File.Delete(socketPath);
    }

    private Creator<CoreActivity> Activity<TActivity>(DurableTaskShimFactory shims, string name)
        where TActivity : ITaskActivity =>
        new(name, () => shims.CreateActivity(name, services.GetRequiredService<TActivity>()));

    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = string.Empty;
            this.create = create;
        }

        public override T Create() => create();
    }
}
