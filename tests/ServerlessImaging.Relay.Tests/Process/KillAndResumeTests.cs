using System.Diagnostics;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Process;

[Collection(LocalStackFixture.CollectionName)]
public sealed class KillAndResumeTests(LocalStackFixture stack)
{
    private const int Instances = 150;

    internal static System.Diagnostics.Process StartRelayProcess(RelayUnderTest relay, System.Text.StringBuilder? log = null)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "si-relay.dll")])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in relay.Environment())
        {
            start.Environment[key] = value;
        }

        start.Environment["TCP_NODELAY"] = "1";
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, line) =>
        {
            if (log is not null && line.Data is not null)
            {
                lock (log)
                {
                    log.AppendLine(line.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<int> CountAsync(RelayUnderTest relay, string prefix)
    {
        var count = 0;
        await foreach (var _ in relay.Staging.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix + "/" }))
        {
            count++;
        }

        return count;
    }

    [Theory]
    [InlineData("Move")]
    [InlineData("Get")]
    public async Task A_relay_killed_mid_retrieval_resumes_the_same_command_after_restart_with_nothing_missing_or_duplicated(string method)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: Instances);
        // Staging reached through a slow forwarder, one upload at a time: on a quiet machine the whole retrieval
        // otherwise ends between two looks at staging, before the kill.
        await using var slowStaging = new ServerlessImaging.Testing.Network.LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(20));
        await using var relay = new RelayUnderTest(stack, "chu-nord", method, tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.Staging.CreateIfNotExistsAsync();
        var prefix = "reg-kill/study";
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, prefix, credential with { SasUrl = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri }));

        using (var first = StartRelayProcess(relay))
        {
            await relay.SendAsync(command);
            var staged = 0;
            var deadline = Stopwatch.StartNew();
            while (staged < 5 && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Assert.False(first.HasExited, "the relay process exited on its own");
                await Task.Delay(5);
                staged = await CountAsync(relay, prefix);
            }

            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no cleanup
            await first.WaitForExitAsync();
            staged = await CountAsync(relay, prefix);
            Assert.InRange(staged, 5, Instances - 1);
        }

        // What the killed relay recorded is what it will resume from; every record names a blob staging holds.
        var recorded = relay.JournalRecords(prefix);
        var before = await relay.ETagsAsync(prefix);
        Assert.InRange(recorded.Count, 1, before.Count);
        Assert.All(recorded.Values, r => Assert.True(before.ContainsKey(r.BlobName), "the journal records a blob staging does not hold"));

        var log = new System.Text.StringBuilder();
        using var second = StartRelayProcess(relay, log);
        try
        {
            // Same message, redelivered once its lease (10 s here) runs out.
            var completed = await relay.AnswerAsync<RetrievalCompleted>(command, TimeSpan.FromSeconds(90));

            Assert.Equal(Instances, completed.Manifest.Count);
            await StagingAssertions.AssertStagedExactlyAsync(relay, study, prefix, completed);
            string text;
            lock (log)
            {
                text = log.ToString();
            }

            // The restarted relay skipped exactly what its journal recorded, with the recorded hashes and sizes.
            var resumed = System.Text.RegularExpressions.Regex.Match(text, $"{Instances} instances, (\\d+) already staged, ");
            Assert.True(resumed.Success, "the restarted relay logged no resumed retrieval");
            Assert.Equal(recorded.Count, int.Parse(resumed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.All(recorded.Values, r => Assert.Equal(r, completed.Manifest.Single(m => m.SopInstanceUid == r.SopInstanceUid)));
            var after = await relay.ETagsAsync(prefix);
            Assert.All(before, blob => Assert.Equal(blob.Value, after[blob.Key]));

            // Deleted once the completion was sent.
            var deadline = Stopwatch.StartNew();
            while (File.Exists(relay.JournalPath(prefix)) && deadline.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50);
            }

            Assert.False(File.Exists(relay.JournalPath(prefix)), "the journal outlived the completed retrieval");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_retrieval_the_relay_dies_on_more_often_than_allowed_is_quarantined_and_answered_as_failed_for_its_registration()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: Instances);

        // Staging through the slow forwarder, as above: with blob storage a process of its own, the whole retrieval
        // otherwise ended between two looks at staging, before the kill.
        await using var slowStaging = new ServerlessImaging.Testing.Network.LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(20));

        // One delivery allowed: the relay dying once on the command is "every delivery" here.
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s =>
        {
            s["Relay:UploadConcurrency"] = "1";
            s["Relay:Channel:MaxDeliveries"] = "1";
        });
        await relay.Staging.CreateIfNotExistsAsync();
        var prefix = "reg-poison/study";
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, prefix, credential with { SasUrl = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri }));

        using (var first = StartRelayProcess(relay))
        {
            await relay.SendAsync(command);
            var deadline = Stopwatch.StartNew();
            while (await CountAsync(relay, prefix) < 5 && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Assert.False(first.HasExited, "the relay process exited on its own");
                await Task.Delay(5);
            }

            first.Kill(entireProcessTree: true); // SIGKILL mid-retrieval: the command is never completed
            await first.WaitForExitAsync();
            Assert.InRange(await CountAsync(relay, prefix), 5, Instances - 1);
        }

        using var second = StartRelayProcess(relay);
        try
        {
            // The second delivery (after the 10 s lease) is over the limit: quarantined, and answered for its registration.
            var report = await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is CommandFailed or RetrievalCompleted, TimeSpan.FromSeconds(90));

            var failed = Assert.IsType<CommandFailed>(report.Body);
            Assert.Equal(FailureReason.Internal, failed.Reason);
            Assert.Equal("RetrieveStudy", failed.FailedCommandType);
            Assert.Contains("quarantined after 2 deliveries", failed.SafeMessage, StringComparison.Ordinal);
            Assert.Equal(command.CorrelationId, report.CorrelationId);
            Assert.Equal(command.MessageId + "/" + RelayPoisonReports.ReportIdSuffix, report.MessageId);
            Assert.Equal(relay.SiteId, report.SiteId);
            Assert.False(RelayPoisonReports.IsUnsolicited(report));

            // The command itself is kept, whole, in the site's poison queue.
            var poison = new Azure.Storage.Queues.QueueClient(stack.Endpoints.Storage.ConnectionString, Messaging.Channel.PoisonQueues.For(relay.CommandQueue), new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
            var record = Messaging.Channel.PoisonRecord.Parse(Assert.Single((await poison.PeekMessagesAsync(5)).Value).Body.ToArray());
            Assert.Equal(Messaging.Channel.PoisonReason.TooManyDeliveries, record.Report.Reason);
            Assert.Equal(command.MessageId, record.Report.MessageId);
            Assert.Equal(command.CorrelationId, record.Report.CorrelationId);
            Assert.Equal(command.MessageId, MessageCodec.Deserialize(System.Text.Encoding.UTF8.GetBytes(record.Raw)).MessageId);

            // Nothing else answers it: no completion comes after the failure.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await Assert.ThrowsAsync<TimeoutException>(() => relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is RetrievalCompleted, TimeSpan.FromSeconds(2)));
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }
}
