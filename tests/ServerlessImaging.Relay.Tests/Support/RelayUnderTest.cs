using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Hosting;
using ServerlessImaging.Relay.Staging;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Support;

/// <summary>
/// A relay for one test: a run-unique site id (so its own command queue), a private events queue, a private
/// staging container, the real PACS of the chosen stack site. Runs in-process (<see cref="StartAsync"/>) or
/// exposes its settings as environment variables for a separate process.
/// </summary>
public sealed class RelayUnderTest : IAsyncDisposable
{
    private readonly LocalStackFixture _stack;
    private readonly List<MessageEnvelope> _events = [];
    private IHost? _host;

    public RelayUnderTest(LocalStackFixture stack, string pacsSite, string method, string? relayAe = null, Action<Dictionary<string, string?>>? tweak = null)
    {
        _stack = stack;
        SiteId = "t" + UniqueNames.PatientSuffix(10).ToLowerInvariant();
        EventsQueue = UniqueNames.Queue("events");
        var pacs = stack.Endpoints.Site(pacsSite);
        var scp = stack.Endpoints.CallingAe(relayAe ?? (pacs.Kind == PacsKind.Dcmqrscp ? "SI_RELAY_EST" : "SI_RELAY_NORD"));
        Settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Relay:SiteId"] = SiteId,
            ["Relay:Channel:ConnectionString"] = stack.Endpoints.Storage.ConnectionString,
            ["Relay:Channel:CreateIfMissing"] = "true",
            ["Relay:Channel:EventsQueue"] = EventsQueue,
            ["Relay:Channel:VisibilityTimeoutSeconds"] = "10",
            ["Relay:Channel:MaxPollIntervalMilliseconds"] = "100",
            ["Relay:Pacs:AeTitle"] = pacs.AeTitle,
            ["Relay:Pacs:Host"] = pacs.Host,
            ["Relay:Pacs:Port"] = pacs.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Relay:Pacs:CallingAeTitle"] = scp.AeTitle,
            ["Relay:Pacs:RetrieveMethod"] = method,
            ["Relay:Pacs:ConnectTimeoutSeconds"] = "5",
            ["Relay:Pacs:DimseTimeoutSeconds"] = "30",
            ["Relay:Scp:AeTitle"] = scp.AeTitle,
            ["Relay:Scp:Port"] = scp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Relay:Scp:BindAddress"] = "127.0.0.1",
            ["Relay:Spool:Directory"] = Path.Combine(Path.GetTempPath(), "si-relay-tests", SiteId, "spool"),
            ["Relay:HeartbeatSeconds"] = "3600",
            ["Relay:ProgressIntervalMilliseconds"] = "200",
        };
        tweak?.Invoke(Settings);
        var transport = new StorageQueueTransport(stack.Endpoints.Storage.ConnectionString);
        var bodies = new BlobMessageBodyStore(new BlobContainerClient(stack.Endpoints.Storage.ConnectionString, ResourceNames.MessageBodiesContainer)) { CreateContainerIfMissing = true };
        Channel = new MessageChannel(transport, bodies, new MessageChannelOptions { CreateQueuesIfMissing = true });
        Staging = new BlobContainerClient(stack.Endpoints.Storage.ConnectionString, UniqueNames.BlobContainer("staging"));
    }

    public string SiteId { get; }

    public string EventsQueue { get; }

    public string CommandQueue => ResourceNames.CommandQueueFor(SiteId);

    public Dictionary<string, string?> Settings { get; }

    /// <summary>The cloud side's view of the channel.</summary>
    public MessageChannel Channel { get; }

    /// <summary>This test's staging container (full rights: the test plays the cloud app).</summary>
    public BlobContainerClient Staging { get; }

    public async Task StartAsync()
    {
        await Staging.CreateIfNotExistsAsync();
        _host = RelayHost.Build([], c => c.AddInMemoryCollection(Settings));
        await _host.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
            _host.Dispose();
            _host = null;
        }
    }

    /// <summary>Environment of a separate relay process with the same settings.</summary>
    public IReadOnlyDictionary<string, string> Environment() =>
        Settings.Where(p => p.Value is not null).ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value!, StringComparer.Ordinal);

    public MessageEnvelope Command(RelayCommand body, string? messageId = null, string? siteId = null) =>
        new(messageId ?? "cmd-" + Guid.NewGuid().ToString("N"), "reg-" + Guid.NewGuid().ToString("N")[..12], null, siteId ?? SiteId, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, body);

    public Task SendAsync(MessageEnvelope command) => Channel.SendAsync(CommandQueue, command, CancellationToken.None);

    /// <summary>
    /// Create + write only on this test's container until <paramref name="expiresAt"/>, signed with the Azurite account
    /// key: what the cloud app issues (no list, no read); <paramref name="permissions"/> mints another for refusal tests.
    /// </summary>
    public StagingCredential Credential(DateTimeOffset expiresAt, DateTimeOffset? declaredExpiry = null, BlobContainerSasPermissions permissions = BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write)
    {
        var sas = Staging.GenerateSasUri(permissions, expiresAt);
        return new StagingCredential(sas, declaredExpiry ?? expiresAt);
    }

    /// <summary>This relay's staging journal of a destination in its container (whether or not it exists).</summary>
    public string JournalPath(string prefix) =>
        new StagingJournals(Settings["Relay:Spool:Directory"]!, TimeProvider.System, NullLogger<StagingJournals>.Instance).PathOf(new StagingDestination(Staging.Name, prefix));

    /// <summary>What the journal of <paramref name="prefix"/> records now (its complete lines), by SOP instance UID.</summary>
    public IReadOnlyDictionary<string, StagedInstance> JournalRecords(string prefix) =>
        StagingJournalFormat.Instance.Parse(File.ReadAllBytes(JournalPath(prefix)), StagingJournalFormat.IdentityOf(new StagingDestination(Staging.Name, prefix))).Records;

    /// <summary>This relay's delivery journal of a study and destination (whether or not it exists).</summary>
    public string DeliveryJournalPath(string studyUid, DeliveryDestination destination) =>
        new DeliveryJournals(Settings["Relay:Spool:Directory"]!, TimeProvider.System, NullLogger<DeliveryJournals>.Instance).PathOf(studyUid, destination);

    /// <summary>The SOP instance UIDs this relay's delivery journal of a study and destination records as acknowledged.</summary>
    public IReadOnlyCollection<string> DeliveryJournalRecords(string studyUid, DeliveryDestination destination) =>
        DeliveryJournalFormat.Instance.Parse(File.ReadAllBytes(DeliveryJournalPath(studyUid, destination)), DeliveryJournalFormat.IdentityOf(studyUid, destination)).Records.Keys.ToList();

    /// <summary>Name -> ETag of every blob under a prefix.</summary>
    public async Task<Dictionary<string, Azure.ETag>> ETagsAsync(string prefix)
    {
        var etags = new Dictionary<string, Azure.ETag>(StringComparer.Ordinal);
        await foreach (var blob in Staging.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix + "/" }))
        {
            etags[blob.Name] = blob.Properties.ETag!.Value;
        }

        return etags;
    }

    public RetrieveStudyCommand Retrieve(string studyUid, string prefix, StagingCredential? credential = null, IReadOnlyList<string>? series = null) =>
        new(studyUid, series ?? [], new StagingDestination(Staging.Name, prefix), credential ?? Credential(DateTimeOffset.UtcNow.AddMinutes(30)));

    /// <summary>Reads events until one satisfies <paramref name="predicate"/> (all events seen so far are kept in <see cref="Events"/>).</summary>
    public async Task<MessageEnvelope> WaitForEventAsync(Func<MessageEnvelope, bool> predicate, TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        lock (_events)
        {
            if (_events.FirstOrDefault(predicate) is { } already)
            {
                return already;
            }
        }

        try
        {
            while (true)
            {
                // Keep the whole batch before looking: a message received and not recorded would be hidden for its lease.
                var batch = await Channel.ReceiveAsync(EventsQueue, cts.Token);
                foreach (var message in batch)
                {
                    await Channel.CompleteAsync(message, cts.Token);
                    lock (_events)
                    {
                        _events.Add(message.Envelope);
                    }
                }

                if (batch.Select(m => m.Envelope).FirstOrDefault(predicate) is { } found)
                {
                    return found;
                }

                await Task.Delay(50, cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            lock (_events)
            {
                throw new TimeoutException($"No matching event within {deadline}; seen: {string.Join(", ", _events.Select(e => e.Type + (e.Body is CommandFailed f ? $"({f.Reason}: {f.SafeMessage})" : string.Empty)))}");
            }
        }
    }

    public IReadOnlyList<MessageEnvelope> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Waits for the event answering a command (causation = its id) of type <typeparamref name="T"/>; fails fast on CommandFailed.</summary>
    public async Task<T> AnswerAsync<T>(MessageEnvelope command, TimeSpan? deadline = null)
        where T : RelayEvent
    {
        var answer = await WaitForEventAsync(e => e.CausationId == command.MessageId && (e.Body is T || e.Body is CommandFailed), deadline ?? TimeSpan.FromSeconds(60));
        return answer.Body is T typed
            ? typed
            : throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}, got {answer.Body}");
    }

    /// <summary>Name -> bytes of every blob under a prefix.</summary>
    public async Task<Dictionary<string, byte[]>> StagedAsync(string prefix)
    {
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var item in Staging.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix + "/" }))
        {
            blobs[item.Name] = (await Staging.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToArray();
        }

        return blobs;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async ValueTask DisposeAsync() => await StopAsync();
}
