using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Retrieval;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Metrics;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Retrieval;

[Collection(LocalStackFixture.CollectionName)]
public sealed class RetrieveStudyTests(LocalStackFixture stack)
{
    [Theory]
    [InlineData("chu-nord", "Move")]
    [InlineData("chu-nord", "Get")]
    [InlineData("ch-est", "Move")]
    [InlineData("ch-est", "Get")]
    public async Task A_study_is_staged_exactly_with_matching_hashes(string site, string method)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, site, series: 2, instancesPerSeries: 3);
        await using var relay = new RelayUnderTest(stack, site, method);
        await relay.StartAsync();

        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-a/study-1"));
        await relay.SendAsync(command);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(command);

        await StagingAssertions.AssertStagedExactlyAsync(relay, study, "reg-a/study-1", completed);

        // For the audit trail: the PACS sent, the relay's AE received (its SCP for C-MOVE, its calling AE for C-GET).
        var receiver = method == "Move" ? relay.Settings["Relay:Scp:AeTitle"] : relay.Settings["Relay:Pacs:CallingAeTitle"];
        Assert.Equal((stack.Endpoints.Site(site).AeTitle, receiver), (completed.SourceAeTitle, completed.DestinationAeTitle));
        Assert.All(relay.Events.Where(e => e.CausationId == command.MessageId), e => Assert.Equal(command.CorrelationId, e.CorrelationId));
    }

    [Fact]
    public async Task Retrieving_again_after_completion_rewrites_nothing_restages_what_was_lost_and_reports_the_whole_study()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 2, instancesPerSeries: 3);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        var first = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-b/s"));
        await relay.SendAsync(first);
        await relay.AnswerAsync<RetrievalCompleted>(first);

        // Lose one instance of series 2; remember the others' ETags to prove they are not rewritten. The completed
        // retrieval's journal is gone, so the relay fetches everything again and staging answers 409 for the others.
        var lost = study.SeriesBySop.First(p => p.Value == study.SeriesUids[1]).Key;
        await relay.Staging.GetBlobClient($"reg-b/s/{lost}.dcm").DeleteAsync();
        var etags = await relay.ETagsAsync("reg-b/s");
        counters.Reset();

        var again = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-b/s"));
        await relay.SendAsync(again);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(again);

        await StagingAssertions.AssertStagedExactlyAsync(relay, study, "reg-b/s", completed);
        var after = await relay.ETagsAsync("reg-b/s");
        Assert.All(etags, blob => Assert.Equal(blob.Value, after[blob.Key]));
        Assert.Equal((1, 5), (counters["relay.instances.staged"], counters["relay.instances.existing"]));

        var progress = relay.Events.Where(e => e.CausationId == again.MessageId).Select(e => e.Body).OfType<RetrievalProgress>().ToList();
        Assert.All(progress, p => Assert.Equal(study.SeriesBySop.Count, p.InstancesTotal));
    }

    [Fact]
    public async Task Progress_events_list_each_staged_instance_once_in_batches_while_the_retrieval_runs()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 2, instancesPerSeries: 6);
        // Staging through a slow forwarder, one upload at a time, so the batches go out while the transfer runs; the
        // progress interval is long, so only a full batch (3) sends an event.
        await using var slowStaging = new LoopbackTcpForwarder(stack.Endpoints.Storage.BlobEndpoint.Port, TimeSpan.FromMilliseconds(20));
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get", tweak: s =>
        {
            s["Relay:UploadConcurrency"] = "1";
            s["Relay:StagedReportBatchSize"] = "3";
            s["Relay:ProgressIntervalMilliseconds"] = "600000";
        });
        await relay.StartAsync();
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(30));
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-p/s", credential with { SasUrl = new UriBuilder(credential.SasUrl) { Port = slowStaging.Port }.Uri }));
        await relay.SendAsync(command);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(command);

        var lists = relay.Events.Where(e => e.CausationId == command.MessageId).Select(e => e.Body).OfType<RetrievalProgress>()
            .Select(p => p.Staged).OfType<IReadOnlyList<StagedInstance>>().ToList();
        Assert.True(lists.Count >= 2, $"expected staged batches during the retrieval, saw {lists.Count}");
        Assert.All(lists, list => Assert.InRange(list.Count, 3, RetrievalProgressReport.MaxStagedPerEvent));
        var listed = lists.SelectMany(l => l).ToList();
        Assert.Equal(listed.Count, listed.Select(i => i.SopInstanceUid).Distinct(StringComparer.Ordinal).Count());
        var bySop = completed.Manifest.ToDictionary(m => m.SopInstanceUid, StringComparer.Ordinal);
        Assert.All(listed, i => Assert.Equal(bySop[i.SopInstanceUid], i)); // blob name, size, SHA-256 and series as the completion says
    }

    [Fact]
    public async Task A_series_subset_stages_only_that_series()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 2, instancesPerSeries: 2);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        await relay.StartAsync();
        var series = study.SeriesUids[0];

        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-c/s", series: [series]));
        await relay.SendAsync(command);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(command);

        Assert.Equal(2, completed.Manifest.Count);
        Assert.All(completed.Manifest, m => Assert.Equal(series, m.SeriesInstanceUid));
        Assert.Equal(2, (await relay.StagedAsync("reg-c/s")).Count);
    }

    [Fact]
    public async Task An_expired_credential_fails_with_CredentialExpired_before_touching_the_PACS()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        var expired = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(-5));

        var command = relay.Command(relay.Retrieve("2.25.1", "reg-d/s", expired));
        await relay.SendAsync(command);
        var failed = await relay.AnswerAsync<CommandFailed>(command);

        Assert.Equal(FailureReason.CredentialExpired, failed.Reason);
        Assert.Equal("RetrieveStudy", failed.FailedCommandType);
    }

    [Fact]
    public async Task A_credential_the_storage_refuses_as_expired_fails_with_CredentialExpired_and_stages_nothing()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 2);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Get");
        await relay.StartAsync();
        // The SAS itself expired, though the command claims it is still valid (clock skew, a stale command).
        var credential = relay.Credential(DateTimeOffset.UtcNow.AddMinutes(-1), declaredExpiry: DateTimeOffset.UtcNow.AddMinutes(10));

        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-e/s", credential));
        await relay.SendAsync(command);
        var failed = await relay.AnswerAsync<CommandFailed>(command);

        Assert.Equal(FailureReason.CredentialExpired, failed.Reason);
        Assert.Empty(await relay.StagedAsync("reg-e/s"));
    }

    [Fact]
    public async Task A_study_the_PACS_does_not_hold_fails_with_StudyNotFound()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        await relay.StartAsync();

        var command = relay.Command(relay.Retrieve(Testing.Isolation.UniqueNames.DicomUid(), "reg-f/s"));
        await relay.SendAsync(command);

        Assert.Equal(FailureReason.StudyNotFound, (await relay.AnswerAsync<CommandFailed>(command)).Reason);
    }
}
