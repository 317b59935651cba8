using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts;
using ServerlessImaging.StandaloneHost.Hosting;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.OrchestrationBench;

// Usage: dotnet run -c Release --project tools/OrchestrationBench -- [registrations=40] [concurrency=8]
// Needs the local stack (tools/stack up); reads .local/stack/stack.json.
var registrations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 40;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
var root = FindRoot();
using var stack = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, ".local", "stack", "stack.json")));
var storage = stack.RootElement.GetProperty("storage").GetProperty("connectionString").GetString()!;
var cosmos = stack.RootElement.GetProperty("cosmos").GetProperty("connectionString").GetString()!;
var dicomWeb = stack.RootElement.GetProperty("dicomService").GetProperty("dicomWebBaseUrl").GetString()!;
var orthanc = stack.RootElement.GetProperty("dicomService").GetProperty("httpUrl").GetString()!;
var run = Guid.NewGuid().ToString("N")[..10];
var site = "bench-" + run;
var eventsQueue = ResourceNames.EventsQueueFor(site); // the site id is this run's own

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development", DisableDefaults = true });
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Storage:ConnectionString"] = storage,
    ["Cosmos:ConnectionString"] = cosmos,
    ["Cosmos:DatabaseName"] = "bench-" + run,
    ["DicomWeb:BaseUrl"] = dicomWeb,
    ["DicomWeb:OrthancRestUrl"] = orthanc,
    ["Sites:Ids"] = site,
    ["DurableTask:MaxQueuePollingInterval"] = "00:00:00.250",
});
builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole());
builder.Services.AddOrchestrationRuntime(builder.Configuration);
builder.Services.AddDurableTaskEngine(builder.Configuration);
builder.Services.AddStandaloneWorkers();
using var host = builder.Build();
await host.StartAsync();

var channel = new MessageChannel(new StorageQueueTransport(storage), new BlobMessageBodyStore(new BlobServiceClient(storage).GetBlobContainerClient(ResourceNames.MessageBodiesContainer)), new MessageChannelOptions { CreateQueuesIfMissing = true, MaxPollInterval = TimeSpan.FromMilliseconds(100) });
var pacs = new ConcurrentDictionary<string, SyntheticStudy>(StringComparer.Ordinal);
using var stop = new CancellationTokenSource();
var relay = Task.Run(() => new SyntheticRelay(channel, site, eventsQueue, pacs).RunAsync(stop.Token));
var client = host.Services.GetRequiredService<IRegistrationOrchestrationClient>();

// Baselines from the same stand-ins, same run: one Cosmos read+replace (If-Match), one queue send->receive->delete.
var cosmosRoundTrip = await CosmosRoundTripAsync(host.Services.GetRequiredService<CosmosClient>(), "bench-" + run);
var queueRoundTrip = await QueueRoundTripAsync(channel, "bench-rt-" + run);

var search = new ConcurrentBag<double>();
var storeStep = new ConcurrentBag<double>();
var total = new ConcurrentBag<double>();
var wall = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, registrations), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
{
    var id = $"bench-{run}-{i}";
    var birthDate = new DateOnly(1940, 1, 1).AddDays(i);
    var studyUid = "2.25." + new System.Numerics.BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true);
    pacs[id] = new SyntheticStudy("BENCH" + i.ToString(CultureInfo.InvariantCulture) + "^ALICE", birthDate, studyUid);
    var meeting = new Meeting("m-" + id, "RCP bench", new DateTimeOffset(2031, 1, 1, 9, 0, 0, TimeSpan.Zero), "Bench", 100, ImagingFilter.Everything, null, null, AutoSelectPolicy.Manual, 30);
    var registration = new Registration(id, meeting.Id, new PatientIdentity("BENCH" + i.ToString(CultureInfo.InvariantCulture), null, "Alice", birthDate, PatientSex.Female, null), new Consent(true, true, true, true), new Requester("bench", "Bench", null), null, false);

    var started = Stopwatch.StartNew();
    await client.StartNewAsync(meeting, registration, "k-" + id, ct);
    await WaitAsync(client, id, RegistrationStatus.WaitingForSelection, ct);
    var searched = started.Elapsed.TotalMilliseconds;
    await client.RaiseEventAsync(id, new SelectionMade("sel-" + id, DateTimeOffset.UtcNow, [studyUid], "bench"), ct);
    await WaitAsync(client, id, RegistrationStatus.Completed, ct);
    search.Add(searched);
    storeStep.Add(started.Elapsed.TotalMilliseconds - searched);
    total.Add(started.Elapsed.TotalMilliseconds);
});
wall.Stop();
await stop.CancelAsync();
await host.StopAsync();

Console.WriteLine($"OrchestrationBench: {registrations} registrations (1 site, 1 study of 1 instance each), concurrency {concurrency}, {Environment.ProcessorCount} cores");
Console.WriteLine($"  throughput: {registrations / wall.Elapsed.TotalMinutes:F0} registrations/min ({wall.Elapsed.TotalSeconds:F1} s)");
Console.WriteLine($"  baseline (same stand-ins): Cosmos read+replace p50 {P(cosmosRoundTrip, 50):F1} ms; queue send->receive->delete p50 {P(queueRoundTrip, 50):F1} ms");
Report("start -> candidates ready (FindStudies out, StudiesFound in)", search);
Report("selection -> study available (RetrieveStudy, staging, STOW-RS, QIDO-RS)", storeStep);
Report("total per registration", total);
return 0;

void Report(string step, ConcurrentBag<double> samples)
{
    var p50 = P(samples, 50);
    Console.WriteLine(FormattableString.Invariant($"  {step}: p50 {p50:F0} ms, p95 {P(samples, 95):F0} ms; p50 = {p50 / P(queueRoundTrip, 50):F1}x a queue round trip, {p50 / P(cosmosRoundTrip, 50):F1}x a Cosmos read+replace"));
}

static double P(IEnumerable<double> samples, int percentile)
{
    var sorted = samples.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

static async Task WaitAsync(IRegistrationOrchestrationClient client, string id, RegistrationStatus status, CancellationToken ct)
{
    var deadline = DateTime.UtcNow.AddMinutes(2);
    while ((await client.GetStatusAsync(id, ct))?.Status != status)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"Registration {id} did not reach {status}.");
        }

        await Task.Delay(25, ct);
    }
}

static async Task<List<double>> CosmosRoundTripAsync(CosmosClient client, string database)
{
    var container = client.GetContainer(database, "registrations");
    var id = "baseline-" + Guid.NewGuid().ToString("N");
    await container.CreateItemAsync(new { id, n = 0 }, new PartitionKey(id));
    var samples = new List<double>();
    for (var i = 0; i < 30; i++)
    {
        var watch = Stopwatch.StartNew();
        var read = await container.ReadItemAsync<JsonElement>(id, new PartitionKey(id));
        await container.ReplaceItemAsync(new { id, n = i }, id, new PartitionKey(id), new ItemRequestOptions { IfMatchEtag = read.ETag });
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    return samples;
}

static async Task<List<double>> QueueRoundTripAsync(MessageChannel channel, string queue)
{
    var samples = new List<double>();
    for (var i = 0; i < 30; i++)
    {
        var envelope = new ServerlessImaging.Contracts.Messages.MessageEnvelope("rt-" + Guid.NewGuid().ToString("N"), "baseline", null, "bench", DateTimeOffset.UtcNow, ServerlessImaging.Contracts.Messages.MessageCodec.CurrentSchemaVersion, new ServerlessImaging.Contracts.Messages.EchoCommand());
        var watch = Stopwatch.StartNew();
        await channel.SendAsync(queue, envelope, CancellationToken.None);
        while (true)
        {
            var received = await channel.ReceiveAsync(queue, CancellationToken.None);
            if (received.Count > 0)
            {
                foreach (var message in received)
                {
                    await channel.CompleteAsync(message, CancellationToken.None);
                }

                break;
            }
        }

        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    return samples;
}

static string FindRoot()
{
    for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "ServerlessImaging.sln")))
        {
            return directory.FullName;
        }
    }

    throw new DirectoryNotFoundException("Run from inside the repository.");
}
