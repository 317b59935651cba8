using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Adapters.Audit.Syslog;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Testing.Atna;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>
/// Audit messages over syslog/TLS into real rsyslog: the stack's shared <c>atna</c> collector for delivery and trust,
/// a private rsyslog for restarts and client certificates.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class SyslogDeliveryTests(LocalStackFixture stack)
{
    // PROCID unique to this test run: some records (refusals, an auditor's read) name no registration, and the shared
    // collector keeps every earlier run's messages.
    private readonly SyslogHeader header = new("atna-test-host", "serverless-imaging-test", "run-" + Guid.NewGuid().ToString("n")[..12]);

    [Fact]
    public async Task Every_record_sent_arrives_at_the_collector_exactly_once_and_intact()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var atna = stack.Endpoints.RequireAtna();
        var messages = Messages("reg-" + Guid.NewGuid().ToString("n"));
        await using (var client = Client(atna.Host, atna.Port, TrustStackCa(atna)))
        {
            // Half one by one, half as a batch: both paths frame and write.
            foreach (var message in messages.Take(messages.Count / 2))
            {
                await client.SendAsync(message, deadline.Token);
            }

            await client.SendManyAsync([.. messages.Skip(messages.Count / 2).Select(m => (ReadOnlyMemory<byte>)m)], deadline.Token);
            Assert.Equal(1, client.Connections);
        }

        var expected = messages.Select(m => Encoding.UTF8.GetString(m)).ToList();
        var received = await WaitForAsync(() => CollectorLog.ReadLines(atna.ReceivedPath), expected, deadline.Token);
        foreach (var line in expected)
        {
            Assert.Equal(1, received.Count(r => r == line));
        }
    }

    [Fact]
    public async Task A_collector_whose_certificate_is_not_from_the_configured_CA_is_refused_and_gets_nothing()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var atna = stack.Endpoints.RequireAtna();
        using var other = new TestCertificateAuthority("some other CA");
        var marker = "reg-untrusted-" + Guid.NewGuid().ToString("n");
        var message = Messages(marker)[0];

        await using (var client = Client(atna.Host, atna.Port, other.AsTrust()))
        {
            await Assert.ThrowsAsync<SyslogCollectorUntrustedException>(() => client.SendAsync(message, deadline.Token));
            Assert.Equal(0, client.Connections);
        }

        // The right CA but another name than the certificate's: refused too.
        await using (var client = Client(atna.Host, atna.Port, TrustStackCa(atna), targetName: "collector.example.org"))
        {
            await Assert.ThrowsAsync<SyslogCollectorUntrustedException>(() => client.SendAsync(message, deadline.Token));
        }

        // Proof the collector works and is flushing: a trusted send after them arrives, the refused message never did.
        var probe = Messages("reg-probe-" + Guid.NewGuid().ToString("n"))[0];
        await using (var client = Client(atna.Host, atna.Port, TrustStackCa(atna)))
        {
            await client.SendAsync(probe, deadline.Token);
        }

        var received = await WaitForAsync(() => CollectorLog.ReadLines(atna.ReceivedPath), [Encoding.UTF8.GetString(probe)], deadline.Token);
        Assert.DoesNotContain(received, line => line.Contains(marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_client_reconnects_after_the_collector_restarts_and_nothing_is_lost_or_doubled()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var collector = await PrivateRsyslog.StartAsync(requireClientCertificate: false, deadline.Token);
        var messages = Messages("reg-" + Guid.NewGuid().ToString("n"));
        var first = messages.Take(10).ToList();
        var second = messages.Skip(10).ToList();
        var logs = new ListLogger();
        await using var client = Client("127.0.0.1", collector.Port, collector.Authority.AsTrust(), maxDelay: TimeSpan.FromMilliseconds(500), logger: logs);

        foreach (var message in first)
        {
            await client.SendAsync(message, deadline.Token);
        }

        // Stopped once it has written them: syslog over TLS has no acknowledgement, so a message still in the collector's
        // buffers when it stops is lost whatever the client does (the export pipeline resends from its cursor for that).
        await WaitForAsync(collector.Received, [.. first.Select(m => Encoding.UTF8.GetString(m))], deadline.Token);
        await collector.StopAsync(deadline.Token);

        // Sent while the collector is down: the client keeps retrying and completes once it is back.
        var sending = client.SendManyAsync([.. second.Select(m => (ReadOnlyMemory<byte>)m)], deadline.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5), deadline.Token);
        Assert.False(sending.IsCompleted, "the send completed while no collector was listening");
        await collector.StartAgainAsync(deadline.Token);
        await sending.WaitAsync(TimeSpan.FromSeconds(30), deadline.Token);

        Assert.Equal(2, client.Connections);

        // The outage is logged (collector and error type), never a message's content.
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning: Sending to the syslog collector 127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(AtnaSamples.PatientKey, StringComparison.Ordinal) || l.Contains("AuditMessage", StringComparison.Ordinal));
        var expected = messages.Select(m => Encoding.UTF8.GetString(m)).ToList();
        var received = await WaitForAsync(collector.Received, expected, deadline.Token);
        Assert.Equal(expected.Count, received.Count);
        foreach (var line in expected)
        {
            Assert.Equal(1, received.Count(r => r == line));
        }
    }

    [Fact]
    public async Task A_collector_that_authenticates_senders_takes_our_client_certificate_and_refuses_a_sender_without_one()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var collector = await PrivateRsyslog.StartAsync(requireClientCertificate: true, deadline.Token);
        var (clientCertificate, _, _) = collector.Authority.Issue("serverless-imaging", server: false);
        using var certificate = clientCertificate;
        var accepted = Messages("reg-" + Guid.NewGuid().ToString("n"))[0];
        var anonymous = Messages("reg-anonymous-" + Guid.NewGuid().ToString("n"))[0];

        // Without a certificate the handshake may complete on our side; the collector then drops the connection unread.
        await using (var client = Client("127.0.0.1", collector.Port, collector.Authority.AsTrust()))
        {
            using var shortly = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            shortly.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                await client.SendAsync(anonymous, shortly.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SyslogCollectorUntrustedException)
            {
            }
        }

        await using (var client = Client("127.0.0.1", collector.Port, collector.Authority.AsTrust(), clientCertificate: certificate))
        {
            await client.SendAsync(accepted, deadline.Token);
        }

        var received = await WaitForAsync(collector.Received, [Encoding.UTF8.GetString(accepted)], deadline.Token);
        Assert.Equal([Encoding.UTF8.GetString(accepted)], received);
    }

    private List<byte[]> Messages(string registrationId) =>
        [.. AtnaSamples.All(registrationId).Select(s => SyslogMessage.ForAuditRecord(s.Record, header))];

    private static X509Certificate2Collection TrustStackCa(AtnaEndpoints atna) => SyslogTlsOptions.LoadCertificateAuthorities(atna.CaCertificatePath);

    private static SyslogTlsClient Client(string host, int port, X509Certificate2Collection trust, string? targetName = null, X509Certificate2? clientCertificate = null, TimeSpan? maxDelay = null, ILogger<SyslogTlsClient>? logger = null) =>
        new(new SyslogTlsOptions
        {
            Host = host,
            Port = port,
            TrustedCertificateAuthorities = trust,
            TargetName = targetName,
            ClientCertificate = clientCertificate,
            MaxReconnectDelay = maxDelay ?? TimeSpan.FromSeconds(2),
        }, logger ?? NullLogger<SyslogTlsClient>.Instance);


    // rsyslog writes asynchronously: wait until every expected line is there, then a moment more so a late duplicate would show.
    private static async Task<IReadOnlyList<string>> WaitForAsync(Func<IReadOnlyList<string>> read, List<string> expected, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var lines = read();
            var set = lines.ToHashSet(StringComparer.Ordinal);
            if (expected.All(set.Contains))
            {
                await Task.Delay(500, cancellationToken);
                return read();
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                Assert.Fail($"{expected.Count(e => !set.Contains(e))} of {expected.Count} messages did not reach the collector within 20 s.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private sealed class ListLogger : ILogger<SyslogTlsClient>
    {
        private readonly ConcurrentQueue<string> lines = new();

        public IReadOnlyCollection<string> Lines => lines;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
    }
}
