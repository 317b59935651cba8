using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Spool;
using ServerlessImaging.Relay.Staging;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Metrics;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Retrieval;

/// <summary>The journal file on its own: concurrent appends, torn lines, one holder per destination, stale removal.</summary>
public sealed class StagingJournalFileTests : IDisposable
{
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "si-journal-" + Guid.NewGuid().ToString("N"));
    private readonly StagingDestination _destination = new("staging-nord", "reg-1/study");

    private StagingJournals Journals() => new(_spool, TimeProvider.System, NullLogger<StagingJournals>.Instance);

    private static StagedInstance Instance(int i) =>
        new("1.2.3", "1.2.3." + i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"reg-1/study/1.2.3.{i}.dcm", 1000 + i, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))));

    [Fact]
    public async Task Concurrent_appends_each_land_as_one_whole_record()
    {
        var journals = Journals();
        await using (var journal = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await journal.AppendAsync(Instance((worker * 50) + i), CancellationToken.None);
                }
            })));
        }

        await using var reopened = await journals.OpenAsync(_destination, CancellationToken.None);
        Assert.Equal(0, reopened.IgnoredLines);
        Assert.Equal(400, reopened.Recorded.Count);
        Assert.All(Enumerable.Range(0, 400), i => Assert.Equal(Instance(i), reopened.Recorded[Instance(i).SopInstanceUid]));
    }

    [Fact]
    public async Task A_torn_last_line_is_ignored_and_cut_off_so_the_next_record_starts_a_line_of_its_own()
    {
        var journals = Journals();
        await using (var journal = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            for (var i = 0; i < 3; i++)
            {
                await journal.AppendAsync(Instance(i), CancellationToken.None);
            }
        }

        // The crash came in the middle of the fourth record's write.
        var torn = StagingJournalFormat.Instance.RecordLine(Instance(3));
        await using (var file = new FileStream(journals.PathOf(_destination), FileMode.Append))
        {
            await file.WriteAsync(torn.AsMemory(0, torn.Length / 2));
        }

        await using (var journal = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            Assert.Equal(1, journal.IgnoredLines);
            Assert.Equal(["1.2.3.0", "1.2.3.1", "1.2.3.2"], journal.Recorded.Keys.Order(StringComparer.Ordinal));
            await journal.AppendAsync(Instance(4), CancellationToken.None);
        }

        await using var last = await journals.OpenAsync(_destination, CancellationToken.None);
        Assert.Equal(0, last.IgnoredLines);
        Assert.Equal(["1.2.3.0", "1.2.3.1", "1.2.3.2", "1.2.3.4"], last.Recorded.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_journal_as_earlier_relays_wrote_it_is_resumed_from_and_appended_to_in_the_same_format()
    {
        // Literal lines, not the writer's output: the on-disk format must not drift from what relays in the field left.
        var sha = new string('a', 64);
        var text = "{\"journal\":1,\"container\":\"staging-nord\",\"prefix\":\"reg-1/study\"}\n"
            + $"{{\"series\":\"1.2.3\",\"sop\":\"1.2.3.7\",\"blob\":\"reg-1/study/1.2.3.7.dcm\",\"size\":1007,\"sha256\":\"{sha}\"}}\n";
        var journals = Journals();
        var path = Path.Combine(_spool, "journals", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("staging-nord\nreg-1/study"u8)) + ".journal");
        Assert.Equal(path, journals.PathOf(_destination with { Prefix = "reg-1/study/" }));
        Directory.CreateDirectory(journals.Directory);
        await File.WriteAllTextAsync(path, text);

        await using (var journal = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            Assert.Equal(0, journal.IgnoredLines);
            Assert.Equal(new StagedInstance("1.2.3", "1.2.3.7", "reg-1/study/1.2.3.7.dcm", 1007, sha), Assert.Single(journal.Recorded).Value);
            await journal.AppendAsync(Instance(8), CancellationToken.None);
        }

        var added = Instance(8);
        Assert.Equal(
            text + $"{{\"series\":\"1.2.3\",\"sop\":\"1.2.3.8\",\"blob\":\"reg-1/study/1.2.3.8.dcm\",\"size\":1008,\"sha256\":\"{added.Sha256}\"}}\n",
            await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_second_command_for_the_same_destination_waits_for_the_first_and_sees_its_records()
    {
        var journals = Journals();
        var first = await journals.OpenAsync(_destination, CancellationToken.None);
        await first.AppendAsync(Instance(1), CancellationToken.None);

        var second = journals.OpenAsync(_destination, CancellationToken.None);
        await Task.Delay(200);
        Assert.False(second.IsCompleted, "a second holder got the journal while the first still held it");
        await using (var other = await journals.OpenAsync(_destination with { Prefix = "reg-2/study" }, CancellationToken.None))
        {
            Assert.Empty(other.Recorded); // another destination does not wait
        }

        await first.DisposeAsync();
        await using var resumed = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Instance(1), Assert.Single(resumed.Recorded).Value);
    }

    [Fact]
    public async Task A_deleted_journal_is_gone_and_one_that_records_nothing_is_not_kept()
    {
        var journals = Journals();
        var path = journals.PathOf(_destination);
        await using (var journal = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            await journal.AppendAsync(Instance(1), CancellationToken.None);
            await journal.DeleteAsync();
        }

        Assert.False(File.Exists(path));
        await using (await journals.OpenAsync(_destination, CancellationToken.None))
        {
            Assert.True(File.Exists(path));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Journals_untouched_for_three_days_are_removed_and_newer_or_held_ones_kept()
    {
        var journals = Journals();
        var old = _destination with { Prefix = "reg-old/s" };
        var recent = _destination with { Prefix = "reg-recent/s" };
        foreach (var destination in new[] { old, recent, _destination })
        {
            await using var journal = await journals.OpenAsync(destination, CancellationToken.None);
            await journal.AppendAsync(Instance(1), CancellationToken.None);
        }

        File.SetLastWriteTimeUtc(journals.PathOf(old), DateTime.UtcNow - JournalFolder.MaxAge - TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(journals.PathOf(recent), DateTime.UtcNow - JournalFolder.MaxAge + TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(journals.PathOf(_destination), DateTime.UtcNow - JournalFolder.MaxAge - TimeSpan.FromHours(1));
        await using (var held = await journals.OpenAsync(_destination, CancellationToken.None))
        {
            Assert.Equal(0, journals.RemoveStale()); // opening already swept the old one; the held one stays
        }

        Assert.False(File.Exists(journals.PathOf(old)));
        Assert.True(File.Exists(journals.PathOf(recent)));
        Assert.True(File.Exists(journals.PathOf(_destination)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }
}

/// <summary>
/// Resuming from the journal against the real stack, with the credential the cloud issues (create and write only):
/// a retrieval is cancelled midway (its journal kept), then the same destination is retrieved again.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class JournalResumeTests(LocalStackFixture stack)
{
    private const int Instances = 24;

    /// <summary>Starts a retrieval through slow staging and cancels it once a few instances are staged; returns the blobs staged then.</summary>
    private async Task<int> RetrieveHalfwayAsync(RelayUnderTest relay, TestStudy study, string prefix)
    {
        await using (var slowStaging = new LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(30)))
        {
            var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
            var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, prefix, credential with { SasUrl = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri }));
            await relay.SendAsync(command);
            await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is RetrievalProgress { InstancesDone: > 3 } or RetrievalCompleted or CommandFailed, TimeSpan.FromSeconds(60));
            await relay.SendAsync(relay.Command(new CancelCommand(command.MessageId)));
            var answer = await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is CommandFailed or RetrievalCompleted, TimeSpan.FromSeconds(60));
            Assert.Equal(FailureReason.Cancelled, Assert.IsType<CommandFailed>(answer.Body).Reason);
        }

        // An upload the relay gave up on may still be committed by the storage from bytes already on their way: wait
        // until the count holds still, so "staged" is what the retry finds.
        var staged = -1;
        for (var stable = 0; stable < 4; await Task.Delay(250))
        {
            var count = (await relay.ETagsAsync(prefix)).Count;
            stable = count == staged ? stable + 1 : 0;
            staged = count;
        }

        Assert.InRange(staged, 4, Instances - 1);
        return staged;
    }

    private static async Task<(RetrievalCompleted Completed, Dictionary<string, ETag> ETags)> RetrieveAgainAsync(RelayUnderTest relay, TestStudy study, string prefix)
    {
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, prefix));
        await relay.SendAsync(command);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(command);
        await StagingAssertions.AssertStagedExactlyAsync(relay, study, prefix, completed);
        return (completed, await relay.ETagsAsync(prefix));
    }

    /// <summary>The journal is deleted just after the completion is sent.</summary>
    private static async Task AssertJournalDeletedAsync(RelayUnderTest relay, string prefix)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (File.Exists(relay.JournalPath(prefix)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(File.Exists(relay.JournalPath(prefix)), "the journal outlived the completed retrieval");
    }

    private static void AssertUnchanged(Dictionary<string, ETag> before, Dictionary<string, ETag> after) =>
        Assert.All(before, blob => Assert.Equal(blob.Value, after[blob.Key]));

    [Fact]
    public async Task A_create_and_write_SAS_is_enough_to_retrieve_and_to_resume_from_the_journal()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 2, instancesPerSeries: Instances / 2);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.StartAsync();
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        const string prefix = "reg-j/s";

        // The credential really cannot list (nor read): whatever the relay resumes from, it is not staging.
        var sas = new BlobContainerClient(relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30)).SasUrl);
        var listing = await Assert.ThrowsAsync<RequestFailedException>(async () => await sas.GetBlobsAsync().AsPages().GetAsyncEnumerator().MoveNextAsync());
        Assert.Equal(403, listing.Status);

        var staged = await RetrieveHalfwayAsync(relay, study, prefix);
        var recorded = relay.JournalRecords(prefix);
        var before = await relay.ETagsAsync(prefix);
        Assert.InRange(recorded.Count, 1, staged);
        Assert.All(recorded.Values, r => Assert.True(before.ContainsKey(r.BlobName), "the journal records a blob staging does not hold"));
        counters.Reset();

        var (completed, after) = await RetrieveAgainAsync(relay, study, prefix);

        Assert.Equal(recorded.Count, counters["relay.instances.resumed"]);
        Assert.Equal(staged - recorded.Count, counters["relay.instances.existing"]); // staged but not yet recorded when cancelled
        Assert.Equal(Instances - staged, counters["relay.instances.staged"]);
        Assert.All(recorded.Values, r => Assert.Equal(r, completed.Manifest.Single(m => m.SopInstanceUid == r.SopInstanceUid)));
        AssertUnchanged(before, after);
        await AssertJournalDeletedAsync(relay, prefix);
    }

    [Fact]
    public async Task A_journal_with_a_torn_last_line_resumes_from_its_complete_lines()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: Instances);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.StartAsync();
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        const string prefix = "reg-t/s";
        var staged = await RetrieveHalfwayAsync(relay, study, prefix);
        var recorded = relay.JournalRecords(prefix).Count;
        Assert.True(recorded >= 2, $"expected at least 2 records, found {recorded}");

        // Tear the last record as a crash mid-append would: its end, newline included, never reached the file.
        var path = relay.JournalPath(prefix);
        await using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(file.Length - 20);
        }

        Assert.Equal(recorded - 1, relay.JournalRecords(prefix).Count);
        var before = await relay.ETagsAsync(prefix);
        counters.Reset();

        var (_, after) = await RetrieveAgainAsync(relay, study, prefix);

        Assert.Equal(recorded - 1, counters["relay.instances.resumed"]);
        Assert.Equal(staged - (recorded - 1), counters["relay.instances.existing"]); // the torn one among them, found in staging
        AssertUnchanged(before, after);
        await AssertJournalDeletedAsync(relay, prefix);
    }

    [Fact]
    public async Task With_the_journal_lost_the_retrieval_uploads_again_counts_what_staging_holds_and_reports_a_correct_manifest()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: Instances);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.StartAsync();
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        const string prefix = "reg-l/s";
        var staged = await RetrieveHalfwayAsync(relay, study, prefix);

        // The spool is lost (a new machine): nothing recorded survives.
        File.Delete(relay.JournalPath(prefix));
        var before = await relay.ETagsAsync(prefix);
        counters.Reset();

        var (completed, after) = await RetrieveAgainAsync(relay, study, prefix);

        Assert.Equal(0, counters["relay.instances.resumed"]);
        Assert.Equal(staged, counters["relay.instances.existing"]); // each answered 409, counted staged with the hash computed again
        Assert.Equal(Instances - staged, counters["relay.instances.staged"]);
        Assert.Equal(Instances, completed.Manifest.Count);
        AssertUnchanged(before, after);
        await AssertJournalDeletedAsync(relay, prefix);
    }

    [Fact]
    public async Task A_SAS_that_cannot_create_and_write_fails_with_StagingFailed_naming_what_it_needs()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 2);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var readOnly = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30), permissions: BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List);

        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-r/s", readOnly));
        await relay.SendAsync(command);
        var failed = await relay.AnswerAsync<CommandFailed>(command);

        Assert.Equal(FailureReason.StagingFailed, failed.Reason);
        Assert.Contains("(needs create and write)", failed.SafeMessage, StringComparison.Ordinal);
        Assert.Empty(await relay.StagedAsync("reg-r/s"));
    }
}
