using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;

namespace ServerlessImaging.Orchestrators.Tests;

/// <summary>Something an activity fake received, and when.</summary>
internal sealed record Received<T>(T Value, DateTimeOffset At);

/// <summary>
/// The real <see cref="RegistrationOrchestration"/> on the Durable Task in-process test host (in-memory backend), with
/// in-memory fake activities that record what they receive. Every wait shares one deadline (60 s from the start of
/// the test) and fails at once, with the orchestration's failure, when the instance fails.
/// </summary>
internal sealed class OrchestrationHarness : IAsyncDisposable
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly DateTimeOffset deadline = DateTimeOffset.UtcNow + TestTimeout;
    private readonly ConcurrentQueue<Received<RegistrationStepRecord>> steps = new();
    private readonly ConcurrentQueue<Received<StudyTransferStepRecord>> transferSteps = new();
    private readonly ConcurrentQueue<Received<OrchestrationCommand>> relayCommands = new();
    private readonly ConcurrentQueue<Received<StoreStudyActivity>> stores = new();
    private readonly ConcurrentQueue<Received<PurgeStudiesActivity>> purges = new();
    private readonly ConcurrentQueue<Received<OrchestrationCommand>> otherActivities = new();
    private readonly CancellationTokenSource timeout = new(TestTimeout);
    private readonly CapturedLogs logs = new();
    private readonly ILoggerFactory loggerFactory;
    private DurableTaskTestHost? host;
    private int storeCalls;

    private OrchestrationHarness()
    {
        loggerFactory = LoggerFactory.Create(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
    }

    public IReadOnlyList<string> Logs => logs.Lines;

    /// <summary>The registration (and instance) id once <see cref="StartRegistrationAsync"/> ran.</summary>
    public string RegistrationId { get; private set; } = "";

    /// <summary>The StoreStudy fake: (command, call number from 1) → event document; may throw. Default: stored and verified.</summary>
    public Func<StoreStudyActivity, int, string?> StoreStudy { get; set; } = (command, _) => RegistrationDocuments.WriteEvent(
        new StoreStudyCompleted(command.CommandId + "/completed", DateTimeOffset.UtcNow, command.CommandId, command.StudyInstanceUid, command.Manifest.Count, command.Manifest.Count, command.Manifest.Count));

    /// <summary>The PurgeStudies fake. Default: everything removed.</summary>
    public Func<PurgeStudiesActivity, string?> PurgeStudies { get; set; } = command => RegistrationDocuments.WriteEvent(
        new RemovalCompleted(command.CommandId + "/completed", DateTimeOffset.UtcNow, command.CommandId, command.StudyInstanceUids.Length, 3));

    /// <summary>Runs inside the CommitRegistrationStep fake before the record is kept (a test may hold a step there).</summary>
    public Func<RegistrationStepRecord, Task>? BeforeRecordStep { get; set; }

    public DurableTaskClient Client => Host.Client;

    /// <summary>Cancelled when the test's 60 s are up.</summary>
    public CancellationToken Timeout => timeout.Token;

    public IReadOnlyList<Received<RegistrationStepRecord>> Steps => [.. steps];

    public IReadOnlyList<Received<OrchestrationCommand>> RelayCommands => [.. relayCommands];

    public IReadOnlyList<Received<StoreStudyActivity>> Stores => [.. stores];

    public IReadOnlyList<Received<PurgeStudiesActivity>> Purges => [.. purges];

    /// <summary>StoreStagedInstances, DeleteStudy, PublishManifest and SendExpertiseEmail calls, in the order received.</summary>
    public IReadOnlyList<Received<OrchestrationCommand>> OtherActivities => [.. otherActivities];

    public int StoreCalls => Volatile.Read(ref storeCalls);

    /// <summary>The steps the study transfers committed, in the order received.</summary>
    public IReadOnlyList<Received<StudyTransferStepRecord>> TransferSteps => [.. transferSteps];

    /// <summary>Every audit record of the registration's own trail, in sequence order.</summary>
    public IReadOnlyList<WriteAuditActivity> Audit => [.. steps.SelectMany(s => s.Value.Audit).Where(a => a.Stream is null).OrderBy(a => a.Sequence)];

    /// <summary>Every audit record of the transfer <paramref name="transferId"/>'s trail (its closing record comes with the registration's commit of its outcome), in sequence order.</summary>
    public IReadOnlyList<WriteAuditActivity> TransferAudit(string transferId) =>
        [.. AllAudit.Where(a => a.Stream == transferId).OrderBy(a => a.Sequence)];

    /// <summary>Every audit record, the registration's and its transfers', in the order committed.</summary>
    public IReadOnlyList<WriteAuditActivity> AllAudit =>
        [.. steps.Select(s => (s.At, s.Value.Audit)).Concat(transferSteps.Select(s => (s.At, s.Value.Audit))).OrderBy(s => s.At).SelectMany(s => s.Audit)];

    /// <summary>The recorded state of the highest version.</summary>
    public RegistrationState LatestState => RegistrationDocuments.ReadState(steps.MaxBy(s => s.Value.Version)!.Value.StateDocument);

    private static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private DurableTaskTestHost Host => host ?? throw new InvalidOperationException("Not started.");

    public static async Task<OrchestrationHarness> StartAsync()
    {
        var harness = new OrchestrationHarness();

        // The test host listens on a loopback port of its own: take a free one, and another if something took it meanwhile.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                harness.host = await DurableTaskTestHost.StartAsync(harness.Register, new DurableTaskTestHostOptions { Port = FreeLoopbackPort(), LoggerFactory = harness.loggerFactory }, harness.Timeout);
                return harness;
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Starts the orchestration as the API does: the start event is the first pending event.</summary>
    public async Task StartRegistrationAsync(RegistrationPlan plan, ActivityRetrySettings? retry = null, int stepsPerHistory = 50)
    {
        RegistrationId = plan.Registration.Id;
        var started = new RegistrationStarted(RegistrationId + "/start", DateTimeOffset.UtcNow, plan);
        var input = new RegistrationOrchestrationInput
        {
            RegistrationId = RegistrationId,
            PendingEvents = [RegistrationDocuments.WriteEvent(started)],
            Retry = retry ?? ActivityRetrySettings.Default,
            StepsPerHistory = stepsPerHistory,
        };
        await Client.ScheduleNewOrchestrationInstanceAsync(RegistrationOrchestration.Name, input, new StartOrchestrationOptions(RegistrationId), Timeout);
    }

    /// <summary>Raises a registration event as the API and the relay-events trigger do (a retrieval's answers to its transfer, a site's to its search).</summary>
    public Task RaiseAsync(OrchestrationEvent registrationEvent)
    {
        var (instanceId, eventName) = RegistrationDocuments.RouteOf(RegistrationId, registrationEvent);
        return Client.RaiseEventAsync(instanceId, eventName, RegistrationDocuments.WriteEvent(registrationEvent), Timeout);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value; fails on the deadline or when the instance failed.</summary>
    public Task<T> WaitForAsync<T>(Func<T?> probe, string what, TimeSpan? within = null)
        where T : class =>
        WaitForResultAsync(() => Task.FromResult(probe()), what, within);

    /// <summary>Polls the asynchronous <paramref name="probe"/> until it returns a value; fails on the deadline or when the instance failed.</summary>
    public async Task<T> WaitForResultAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? within = null)
        where T : class
    {
        var until = within is { } limit && DateTimeOffset.UtcNow + limit < deadline ? DateTimeOffset.UtcNow + limit : deadline;
        var nextStatusCheck = DateTimeOffset.UtcNow;
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            if (DateTimeOffset.UtcNow >= nextStatusCheck && RegistrationId.Length > 0)
            {
                nextStatusCheck = DateTimeOffset.UtcNow.AddSeconds(1);
                var instance = await Client.GetInstanceAsync(RegistrationId, getInputsAndOutputs: false, CancellationToken.None);
                if (instance is { RuntimeStatus: OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated })
                {
                    Assert.Fail($"Waiting for {what}: the orchestration is {instance.RuntimeStatus}: {instance.FailureDetails}. {Describe()}");
                }
            }

            if (DateTimeOffset.UtcNow >= until)
            {
                Assert.Fail($"Timed out waiting for {what}. {await DescribeAsync()}");
            }

            await Task.Delay(PollInterval, CancellationToken.None);
        }
    }

    /// <summary>The first audit record of <paramref name="action"/> (for <paramref name="siteId"/> when given), in any trail.</summary>
    public Task<WriteAuditActivity> WaitForAuditAsync(AuditAction action, string? siteId = null, TimeSpan? within = null) =>
        WaitForAsync(() => AllAudit.FirstOrDefault(a => a.Action == action && (siteId is null || a.SiteId == siteId)), $"audit record {action}{(siteId is null ? "" : " of " + siteId)}", within);

    /// <summary>The state recorded by the step that wrote <paramref name="record"/>.</summary>
    public RegistrationState StateRecordedWith(WriteAuditActivity record) =>
        RegistrationDocuments.ReadState(steps.First(s => s.Value.Audit.Any(a => a.CommandId == record.CommandId)).Value.StateDocument);

    /// <summary>The orchestration's current input (after a continue-as-new: the state and timers it carried over).</summary>
    public async Task<RegistrationOrchestrationInput> CurrentInputAsync()
    {
        using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var instance = await Client.GetInstanceAsync(RegistrationId, getInputsAndOutputs: true, quick.Token);
        return instance?.ReadInputAs<RegistrationOrchestrationInput>() ?? throw new InvalidOperationException("No instance or no input.");
    }

    /// <summary>The first recorded state that satisfies <paramref name="condition"/>.</summary>
    public Task<RegistrationState> WaitForStateAsync(Func<RegistrationState, bool> condition, string what) =>
        WaitForAsync(() => steps.Select(s => RegistrationDocuments.ReadState(s.Value.StateDocument)).FirstOrDefault(condition), what);

    /// <summary>The relay command with id <paramref name="commandId"/>.</summary>
    public async Task<Received<T>> WaitForRelayCommandAsync<T>(string commandId)
        where T : OrchestrationCommand
    {
        var received = await WaitForAsync(() => relayCommands.FirstOrDefault(c => c.Value is T && c.Value.CommandId == commandId), $"relay command {typeof(T).Name} {commandId}");
        return new Received<T>((T)received.Value, received.At);
    }

    /// <summary>The instance's status and what the fakes saw so far, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        string instance;
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var metadata = await Client.GetInstanceAsync(RegistrationId, getInputsAndOutputs: true, quick.Token);
            instance = metadata is null
                ? "no instance"
                : $"instance {metadata.RuntimeStatus}, custom status {metadata.SerializedCustomStatus}, output {metadata.SerializedOutput}, failure {metadata.FailureDetails}, input {metadata.SerializedInput}";
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException)
        {
            instance = "instance status unavailable: " + e.GetType().Name;
        }

        var engine = Logs.Where(l => l.Contains(" Microsoft.DurableTask.Worker", StringComparison.Ordinal) || l.Contains(RegistrationOrchestration.Name, StringComparison.Ordinal)).TakeLast(30);
        return instance + ". " + Describe() + "\nLast engine log lines:\n" + string.Join("\n", engine);
    }

    /// <summary>What the fakes saw so far, for failure messages.</summary>
    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"Audit: [{string.Join(", ", Audit.Select(a => $"{a.Sequence}:{a.Action}{(a.SiteId is null ? "" : "@" + a.SiteId)}"))}]; ")
        + string.Create(CultureInfo.InvariantCulture, $"transfer audit: [{string.Join(", ", transferSteps.SelectMany(s => s.Value.Audit).Select(a => $"{a.Stream}#{a.Sequence}:{a.Action}"))}]; ")
        + $"relay commands: [{string.Join(", ", relayCommands.Select(c => c.Value.CommandId))}]; "
        + string.Create(CultureInfo.InvariantCulture, $"store calls: {StoreCalls}; purges: {purges.Count}; other activities: [{string.Join(", ", otherActivities.Select(c => c.Value.CommandId))}].");

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        timeout.Dispose();
        loggerFactory.Dispose();
        logs.Dispose();
    }

    private void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator(RegistrationOrchestration.Name, () => new RegistrationOrchestration());
        registry.AddOrchestrator(StudyTransferOrchestration.Name, () => new StudyTransferOrchestration());
        registry.AddActivityFunc<StudyTransferStepRecord>(StudyTransferActivities.CommitStep, (_, record) =>
        {
            foreach (var command in record.RelayCommands)
            {
                relayCommands.Enqueue(new(command, DateTimeOffset.UtcNow));
            }

            transferSteps.Enqueue(new(record, DateTimeOffset.UtcNow));
        });
        registry.AddActivityFunc<RegistrationStepRecord>(RegistrationActivities.CommitStep, async (_, record) =>
        {
            if (BeforeRecordStep is { } hook)
            {
                await hook(record);
            }

            foreach (var command in record.RelayCommands)
            {
                relayCommands.Enqueue(new(command, DateTimeOffset.UtcNow));
            }

            steps.Enqueue(new(record, DateTimeOffset.UtcNow));
        });
        registry.AddActivityFunc<StoreStudyActivity, string?>(RegistrationActivities.StoreStudy, (_, command) =>
        {
            stores.Enqueue(new(command, DateTimeOffset.UtcNow));
            return StoreStudy(command, Interlocked.Increment(ref storeCalls));
        });
        registry.AddActivityFunc<StoreStagedInstancesActivity, string?>(RegistrationActivities.StoreStagedInstances, (_, command) =>
        {
            otherActivities.Enqueue(new(command, DateTimeOffset.UtcNow));
            return (string?)null;
        });
        registry.AddActivityFunc<DeleteStudyActivity, string?>(RegistrationActivities.DeleteStudy, (_, command) =>
        {
            otherActivities.Enqueue(new(command, DateTimeOffset.UtcNow));
            return RegistrationDocuments.WriteEvent(new RemovalCompleted(command.CommandId + "/completed", DateTimeOffset.UtcNow, command.CommandId, 1, 2));
        });
        registry.AddActivityFunc<PurgeStudiesActivity, string?>(RegistrationActivities.PurgeStudies, (_, command) =>
        {
            purges.Enqueue(new(command, DateTimeOffset.UtcNow));
            return PurgeStudies(command);
        });
        registry.AddActivityFunc<PublishManifestActivity, string?>(RegistrationActivities.PublishManifest, (_, command) =>
        {
            otherActivities.Enqueue(new(command, DateTimeOffset.UtcNow));
            return RegistrationDocuments.WriteEvent(new ManifestPublished(command.CommandId + "/published", DateTimeOffset.UtcNow, command.CommandId, command.Revision, "1.2.3", "1.2.3.1", command.StudyInstanceUids.IsEmpty ? null : "1.2.3.1.1", command.StudyInstanceUids.Length));
        });
        registry.AddActivityFunc<SendExpertiseEmailActivity, string?>(RegistrationActivities.SendExpertiseEmail, (_, command) =>
        {
            otherActivities.Enqueue(new(command, DateTimeOffset.UtcNow));
            return RegistrationDocuments.WriteEvent(new ExpertiseEmailSent(command.CommandId + "/sent", DateTimeOffset.UtcNow, command.CommandId, CommandIds.ExpertiseMessageId(command.CommandId)));
        });
    }
}
