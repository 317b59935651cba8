using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Audit.Atna;
using ServerlessImaging.Adapters.Audit.Syslog;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Testing.Atna;
using ServerlessImaging.Testing.Stack;
using Xunit.Abstractions;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>
/// The ATNA export pipeline against real parts: the audit trail and its chain in the Cosmos DB stand-in (a database of
/// this test class's own, so its chain starts at block 1), rsyslog with TLS as the collector (the stack's shared
/// <c>atna</c>, or a private one the test stops and starts). Records are matched in the collector's file by the id each
/// message carries (<c>[auditRecord@32473 id="…"]</c>).
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed partial class AtnaExportTests(LocalStackFixture stack, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddHours(8);
    private readonly string run = Guid.NewGuid().ToString("n")[..10];
    private readonly SyslogHeader header = new("atna-export-test", "serverless-imaging-test", "export");
    private CosmosClient? client;
    private Database database = null!;
    private CosmosAuditTrail trail = null!;

    public async Task InitializeAsync()
    {
        (client, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "atnaexport");
        trail = new CosmosAuditTrail(database.GetContainer("audit"), "test");
    }

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await database.DeleteAsync();
            client.Dispose();
        }
    }

    [Fact]
    public async Task Every_record_written_reaches_the_stack_collector_exactly_once_and_each_message_validates()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var atna = stack.Endpoints.RequireAtna();

        // Every kind of record the product writes (a registration's numbered records in order), then many concurrent ones.
        var ids = new List<string>();
        foreach (var (_, record) in AtnaSamples.All("reg-" + run))
        {
            await trail.AppendAsync(record, deadline.Token);
            ids.Add(record.Id);
        }

        ids.AddRange(await WriteConcurrentlyAsync(150, "a", deadline.Token));
        await using var collector = Collector(atna.Host, atna.Port, SyslogTlsOptions.LoadCertificateAuthorities(atna.CaCertificatePath));
        var exporter = Exporter(collector, maxBatch: 60);

        var pass = await exporter.RunOnceAsync(deadline.Token);

        Assert.Equal(AtnaExportOutcome.CaughtUp, pass.Outcome);
        Assert.Equal(ids.Count, pass.RecordsSent);
        Assert.True(pass.Batches >= 3, $"{pass.Batches} batches");
        Assert.Equal(AtnaExportOutcome.Idle, (await exporter.RunOnceAsync(deadline.Token)).Outcome);

        var lines = await WaitForIdsAsync(() => CollectorLog.ReadLines(atna.ReceivedPath), ids, deadline.Token);
        var counts = CountById(lines);
        Assert.All(ids, id => Assert.Equal(1, counts.GetValueOrDefault(id)));

        // The XML of every message, as the collector wrote it, against the standard's schema.
        var directory = Directory.CreateTempSubdirectory("atna-export-xml-");
        try
        {
            var files = new List<string>();
            foreach (var line in lines.Where(l => RecordIdOf(l) is { } id && ids.Contains(id)))
            {
                var path = Path.Combine(directory.FullName, RecordIdOf(line) + ".xml");
                await File.WriteAllTextAsync(path, line[(line.IndexOf('\uFEFF', StringComparison.Ordinal) + 1)..], deadline.Token);
                files.Add(path);
            }

            var (exitCode, output) = await Xmllint.ValidateAsync(Xmllint.SchemaPath(stack.RepositoryRootPath), files, deadline.Token);
            Assert.True(exitCode == 0, output);
            Assert.Equal(ids.Count, files.Count);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_collector_stopped_mid_export_loses_nothing_and_only_the_batch_in_flight_can_arrive_twice()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var rsyslog = await PrivateRsyslog.StartAsync(requireClientCertificate: false, deadline.Token);
        const int maxBatch = 20;
        var ids = await WriteConcurrentlyAsync(600, "b", deadline.Token);
        await using var collector = Collector("127.0.0.1", rsyslog.Port, rsyslog.Authority.AsTrust());
        var exporter = Exporter(collector, maxBatch);

        // The collector is stopped once the pass has delivered its first messages, so the pass fails part-way.
        var pass = exporter.RunOnceAsync(deadline.Token);
        while (rsyslog.Received().Count == 0)
        {
            Assert.False(pass.IsCompleted, "the pass ended before the collector received anything");
            await Task.Delay(5, deadline.Token);
        }

        await rsyslog.StopAsync(deadline.Token);
        var failed = await pass;
        Assert.Equal(AtnaExportOutcome.Failed, failed.Outcome);
        Assert.True(failed.Position > 0 && failed.RecordsSent < ids.Count, $"cursor at {failed.Position} after {failed.RecordsSent} records");

        // The batch in flight at the failure: whole blocks after the cursor, as the exporter takes them, among blocks sealed by then.
        var inFlight = await BatchAfterAsync(failed.Position, maxBatch, deadline.Token);

        // While the collector is down: more records, and a pass that fails without moving the cursor.
        ids.AddRange(await WriteConcurrentlyAsync(100, "c", deadline.Token));
        var down = await exporter.RunOnceAsync(deadline.Token);
        Assert.Equal(AtnaExportOutcome.Failed, down.Outcome);
        Assert.Equal(failed.Position, down.Position);

        await rsyslog.StartAgainAsync(deadline.Token);
        var resumed = await exporter.RunOnceAsync(deadline.Token);
        Assert.Equal(AtnaExportOutcome.CaughtUp, resumed.Outcome);

        var counts = CountById(await WaitForIdsAsync(rsyslog.Received, ids, deadline.Token));
        Assert.All(ids, id => Assert.InRange(counts.GetValueOrDefault(id), 1, 2));
        var twice = counts.Where(c => c.Value == 2).Select(c => c.Key).ToList();
        output.WriteLine($"failed at cursor {failed.Position} after {failed.RecordsSent} records; batch in flight {inFlight.Count} records; received twice {twice.Count}");
        Assert.All(twice, id => Assert.Contains(id, inFlight));
        Assert.Equal(ids.Count, counts.Count);
    }

    [Fact]
    public async Task Two_exporters_running_at_once_send_each_record_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var rsyslog = await PrivateRsyslog.StartAsync(requireClientCertificate: false, deadline.Token);
        await using var collectorA = Collector("127.0.0.1", rsyslog.Port, rsyslog.Authority.AsTrust());
        await using var collectorB = Collector("127.0.0.1", rsyslog.Port, rsyslog.Authority.AsTrust());
        var exporters = new[] { Exporter(collectorA, 25), Exporter(collectorB, 25) };

        // Both loop while records keep coming, as two app instances would.
        var ids = new List<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var outcomes = new List<AtnaExportPass>[] { [], [] };
        var loops = exporters.Select((exporter, i) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                outcomes[i].Add(await exporter.RunOnceAsync(deadline.Token));
                await Task.Delay(20, deadline.Token);
            }
        })).ToList();
        for (var round = 0; round < 8; round++)
        {
            ids.AddRange(await WriteConcurrentlyAsync(40, $"d{round}", deadline.Token));
        }

        // Wait until the chain is exported to its head, then stop both.
        var head = (await trail.Chain.ReadHeadAsync(deadline.Token))!.Position;
        var cursor = new AtnaExportCursor(database.GetContainer("idempotency"));
        while (await cursor.ReadPositionAsync(deadline.Token) < head)
        {
            await Task.Delay(50, deadline.Token);
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops);

        var counts = CountById(await WaitForIdsAsync(rsyslog.Received, ids, deadline.Token));
        Assert.All(ids, id => Assert.Equal(1, counts.GetValueOrDefault(id)));
        Assert.Equal(ids.Count, counts.Count);
        output.WriteLine(string.Join("; ", outcomes.Select((o, i) => $"exporter {i}: " + string.Join(", ", o.GroupBy(p => p.Outcome).Select(g => $"{g.Key} {g.Count()} ({g.Sum(p => p.RecordsSent)} records)")))));
        Assert.DoesNotContain(outcomes.SelectMany(o => o), p => p.Outcome == AtnaExportOutcome.Failed);
        Assert.Contains(outcomes.SelectMany(o => o), p => p.Outcome == AtnaExportOutcome.Busy); // they did overlap: one found the cursor held
        Assert.Equal(ids.Count, outcomes.SelectMany(o => o).Sum(p => p.RecordsSent));
    }

    [Fact]
    public async Task The_cursor_lease_goes_to_one_holder_and_a_holder_that_lost_it_cannot_move_the_cursor()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var container = database.GetContainer("idempotency");
        var time = new ManualTime(DateTimeOffset.UtcNow);
        var cursor = new AtnaExportCursor(container, time);

        var a = await cursor.TryAcquireAsync("a", TimeSpan.FromMinutes(1), deadline.Token);
        Assert.NotNull(a);
        Assert.Null(await cursor.TryAcquireAsync("b", TimeSpan.FromMinutes(1), deadline.Token));
        a = await cursor.AdvanceAsync(a, 3, TimeSpan.FromMinutes(1), deadline.Token);
        Assert.Equal(3, await cursor.ReadPositionAsync(deadline.Token));

        // a stalls past its lease; b takes over and moves on; a's late move is refused and the cursor does not go back.
        time.Now += TimeSpan.FromMinutes(2);
        var b = await cursor.TryAcquireAsync("b", TimeSpan.FromMinutes(1), deadline.Token);
        Assert.NotNull(b);
        Assert.Equal(3, b.Position);
        await cursor.AdvanceAsync(b, 5, TimeSpan.FromMinutes(1), deadline.Token);
        await Assert.ThrowsAsync<AtnaExportLeaseLostException>(() => cursor.AdvanceAsync(a, 4, TimeSpan.FromMinutes(1), deadline.Token));
        Assert.Equal(5, await cursor.ReadPositionAsync(deadline.Token));
    }

    private AtnaExporter Exporter(SyslogTlsClient collector, int maxBatch) =>
        new(trail, new AtnaExportCursor(database.GetContainer("idempotency")), collector, new AtnaExportOptions
        {
            Collector = new SyslogTlsOptions { Host = "unused", TrustedCertificateAuthorities = [] },
            Header = header,
            MaxBatchRecords = maxBatch,
            BatchTimeout = TimeSpan.FromSeconds(20),
        }, NullLogger<AtnaExporter>.Instance);

    private static SyslogTlsClient Collector(string host, int port, System.Security.Cryptography.X509Certificates.X509Certificate2Collection trust) =>
        new(new SyslogTlsOptions { Host = host, Port = port, TrustedCertificateAuthorities = trust, ConnectTimeout = TimeSpan.FromSeconds(3), ConfirmTimeout = TimeSpan.FromSeconds(10) }, NullLogger<SyslogTlsClient>.Instance);

    /// <summary>Records written by many writers at once (as concurrent requests do), ids unique to this run.</summary>
    private async Task<List<string>> WriteConcurrentlyAsync(int count, string tag, CancellationToken cancellationToken)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"au-{run}-{tag}-{i:D4}").ToList();
        await Parallel.ForEachAsync(ids.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, token) =>
            await trail.AppendAsync(Record(item.id, Day.AddMilliseconds(item.i)), token));
        return ids;
    }

    private static AuditRecord Record(string id, DateTimeOffset at) => new()
    {
        Id = id,
        PartitionKey = AuditRecord.PartitionKeyFor(at),
        EventId = AuditEventIds.PatientRecord,
        EventType = "RegistrationStatusRead",
        ActionCode = AuditActionCodes.Read,
        DateTime = at,
        RecordedAt = at,
        Outcome = AuditOutcomeCodes.Success,
        AuditSource = "test",
        ActiveParticipants = [new AuditParticipant("user-7", "user", true, "registrar", "10.0.0.7")],
        ParticipantObjects = [],
        UserId = "user-7",
    };

    // The exporter's rule: whole blocks after the cursor until about maxBatch records (blocks sealed now: none after the failure yet).
    private async Task<HashSet<string>> BatchAfterAsync(long position, int maxBatch, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (ids.Count < maxBatch && await trail.Chain.ReadBlockAsync(++position, cancellationToken) is { } block)
        {
            ids.UnionWith(block.Entries.Select(e => e.RecordId));
        }

        return ids;
    }

    private static Dictionary<string, int> CountById(IEnumerable<string> lines) =>
        lines.Select(RecordIdOf).OfType<string>().GroupBy(id => id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private static string? RecordIdOf(string line) => RecordIdPattern().Match(line) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex("""\[auditRecord@32473 id="([^"]+)"\]""")]
    private static partial Regex RecordIdPattern();


    // rsyslog writes asynchronously: wait until every id is there, then a moment more so a late duplicate would show.
    private static async Task<IReadOnlyList<string>> WaitForIdsAsync(Func<IReadOnlyList<string>> read, List<string> ids, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var seen = read().Select(RecordIdOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var missing = ids.Count(id => !seen.Contains(id));
            if (missing == 0)
            {
                await Task.Delay(500, cancellationToken);
                return read();
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                Assert.Fail($"{missing} of {ids.Count} records did not reach the collector within 20 s.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
