using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessImaging.EndToEnd.Tests.Support;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Faults;

/// <summary>
/// Outages of what the product talks to, on private instances so no other test notices: a site PACS (dcmqrscp,
/// retrieving by C-MOVE) killed while the relay's C-FIND is open, and Storage (Azurite) restarted in the middle of a
/// retrieval.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class StandInOutageTests(LocalStackFixture stack, FaultTable table)
{
    [Fact]
    public Task A_site_pacs_stopped_during_the_query_is_reported_unreachable_then_searched_again_once_back() => table.RunAsync(
        "stop a site PACS (dcmqrscp, C-MOVE) during the query",
        "site Unreachable with its reason while the other site's candidates are offered; searched again by the retry timer once the PACS is back; both studies Available",
        async () =>
        {
            var directory = Path.Combine(stack.RepositoryRootPath, ".local", "fault-suite", "pacs-" + Guid.NewGuid().ToString("N")[..8]);
            var scpPort = AppAndRelays.FreeLoopbackPort();
            await using var pacs = PrivatePacs.Create(directory, [("SI_FAULT_EST", scpPort)]);
            await pacs.StartAsync();
            await using var slow = new LoopbackTcpForwarder(pacs.Address.Port, TimeSpan.FromMilliseconds(60));
            var nord = SharedRig.Pacs(stack, "chu-nord");
            var patient = TestPatient.New();
            TestStudy[] studies = [await patient.AddStudyAsync(pacs.Address, 3), await patient.AddStudyAsync(nord, 2)];
            var est = RigSite.ByMove("est", pacs.Address with { Port = slow.Port }, "SI_FAULT_EST", scpPort);
            await using var rig = await FaultRig.StartAsync(stack, "pacs-stop", [est, RigSite.ByGet("nord", nord)]);
            var flow = new RcpFlow(rig);

            // The relays' start-up heartbeats (a C-ECHO each) are done; the next association through the forwarder is the search.
            var before = slow.ConnectionsAccepted;
            var registrationId = await flow.RegisterAsync(patient);
            await Waiting.UntilAsync("the relay's query to the PACS", TimeSpan.FromSeconds(60), _ => Task.FromResult(slow.ConnectionsAccepted > before), CancellationToken.None, TimeSpan.FromMilliseconds(5));

            await pacs.KillAsync();
            var degraded = new RegistrationView(await flow.WaitForAsync(registrationId, "site est Unreachable and the other site's candidate offered",
                s => s.Status == "WaitingForSelection" && s.Site(est.SiteId).GetProperty("status").GetString() == "Unreachable" && s.Candidates.Count == 1));
            var reason = degraded.Site(est.SiteId).GetProperty("lastFailure").GetString();
            Assert.False(string.IsNullOrEmpty(reason));
            Assert.Equal(studies[1].StudyInstanceUid, degraded.Candidates.Single());

            await pacs.StartAsync();
            await flow.WaitForCandidatesAsync(registrationId, 2);
            await flow.SelectAsync(registrationId, studies.Select(s => s.StudyInstanceUid));
            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies,
                AuditExpectation.Completed(sites: 2, studies: 2).AtLeast("SiteUnreachable", 1));
            return string.Create(CultureInfo.InvariantCulture, $"PACS killed with the relay's C-FIND association open; site Unreachable ({reason}), 1 candidate offered meanwhile; PACS restarted, retry timer searched it again; {outcome}");
        });

    [Fact]
    public Task Storage_restarted_while_idle_and_mid_retrieval_loses_no_message_and_the_failed_retrieval_is_retried() => table.RunAsync(
        "restart Azurite (queues and staging blobs): while the registration waits for its selection, then mid-retrieval",
        "idle restart: app and relays reconnect, the study selected next is Available; mid-retrieval: the attempt fails (staging_failed), the study waits Pending with its next attempt time, the retry timer retries it and it ends Available; no message lost or poisoned",
        async () =>
        {
            var directory = Path.Combine(stack.RepositoryRootPath, ".local", "fault-suite", "azurite-" + Guid.NewGuid().ToString("N")[..8]);
            await using var azurite = new PrivateAzurite(stack, directory);
            await azurite.StartAsync();
            var nord = SharedRig.Pacs(stack, "chu-nord");
            var sud = SharedRig.Pacs(stack, "clinique-sud");
            await using var slow = new LoopbackTcpForwarder(nord.Port, TimeSpan.FromMilliseconds(40));
            var patient = TestPatient.New();
            var quick = await patient.AddStudyAsync(sud, 2);
            var large = await patient.AddStudyAsync(nord, 16, 128);

            // Long enough for the test to see the study waiting, short enough to keep the suite quick.
            var options = new RigOptions
            {
                StorageConnectionString = azurite.ConnectionString,
                AppSettings = { ["Orchestration__RetrievalRetryInterval"] = RetryInterval.ToString("c", CultureInfo.InvariantCulture) },
            };
            var rig = await FaultRig.StartAsync(stack, "azurite", [RigSite.ByGet("nord", nord with { Port = slow.Port }), RigSite.ByGet("sud", sud)], options);
            await using (rig)
            {
                var flow = new RcpFlow(rig);
                var registrationId = await flow.RegisterAsync(patient);
                await flow.WaitForCandidatesAsync(registrationId, 2);

                // 1. Idle: every poll of the app and the relays fails for a while.
                await azurite.StopAsync();
                await Task.Delay(OutageLength);
                await azurite.StartAsync();
                await flow.SelectAsync(registrationId, [quick.StudyInstanceUid]);
                await flow.WaitForAsync(registrationId, "the first study Available", s => s.Study(quick.StudyInstanceUid).GetProperty("status").GetString() == "Available");

                // 2. Mid-retrieval: the relay's uploads to staging fail.
                await flow.SelectAsync(registrationId, [large.StudyInstanceUid]);
                await Waiting.UntilAsync("the second study's first instance in staging", TimeSpan.FromSeconds(60), async _ => await Checks.StagedBlobsAsync(rig, registrationId + "/" + large.StudyInstanceUid) >= 1, CancellationToken.None, TimeSpan.FromMilliseconds(20));

                await azurite.StopAsync();
                await Task.Delay(OutageLength);
                await azurite.StartAsync();

                // The only site holding it failed for a transient cause: the API shows it waiting, not failed.
                var waiting = new RegistrationView(await flow.WaitForAsync(registrationId, "the second study waiting for its retry", s => s.Study(large.StudyInstanceUid).TryGetProperty("nextAttemptAt", out var next) && next.ValueKind == JsonValueKind.String));
                var view = waiting.Study(large.StudyInstanceUid);
                Assert.Equal(("Retrieving", "Pending", "staging_failed"), (waiting.Status, view.GetProperty("status").GetString(), view.GetProperty("failure").GetProperty("code").GetString()));

                var audit = AuditExpectation.Completed(sites: 2, studies: 2)
                    .Exactly("SelectionRequested", 2).Exactly("SelectionMade", 2).Exactly("RetrievalStarted", 3)
                    .Exactly("StudyFailed", 1).Exactly("RetrievalRetryScheduled", 1);
                var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, [quick, large], audit);
                var relayLog = rig.Log("relay-nord");
                Assert.Contains("Staging upload failed: the storage account could not be reached", relayLog, StringComparison.Ordinal);

                // The retry resumed: the second attempt found what the first staged before the outage.
                var resumed = Regex.Match(relayLog, Regex.Escape($"{TransferOf(registrationId, large.StudyInstanceUid)}/retrieve/a2: {large.SopInstanceUids.Count} instances, ") + "(\\d+) already staged");
                Assert.True(resumed.Success, "the relay log shows no second retrieval attempt of the study");
                var alreadyStaged = int.Parse(resumed.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.InRange(alreadyStaged, 1, large.SopInstanceUids.Count);

                // The trail of the retried study's transfer, in sequence: the failed attempt, the scheduled retry, the successful one.
                var transferId = TransferOf(registrationId, large.StudyInstanceUid);
                var trail = (await flow.AuditAsync(registrationId))
                    .Where(r => r.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.String && stream.GetString() == transferId)
                    .OrderBy(r => r.GetProperty("sequence").GetInt64())
                    .Select(r => AuditExpectation.Type(r) + "/" + r.GetProperty("outcome").GetInt32().ToString(CultureInfo.InvariantCulture))
                    .ToList();
                Assert.Equal(["RetrievalStarted/0", "StudyFailed/4", "RetrievalRetryScheduled/4", "RetrievalStarted/0", "RetrievalCompleted/0", "StudyStored/0"], trail);
                return string.Create(CultureInfo.InvariantCulture, $"Azurite stopped {OutageLength.TotalSeconds:0} s twice and restarted on its data; idle: app and relays reconnected, study Available; mid-retrieval: relay reported StagingFailed, study Pending with nextAttemptAt, retried by the timer ({RetryInterval.TotalSeconds:0} s), resumed with {alreadyStaged} of {large.SopInstanceUids.Count} instances already staged, Available; {outcome}");
            }
        });

    // The study's first transfer (its sub-orchestration's instance id, which its relay command ids and audit trail carry).
    private static string TransferOf(string registrationId, string studyUid) => $"{registrationId}:transfer:{studyUid}:t1";

    // Automatic retry of a failed retrieval (Orchestration__RetrievalRetryInterval; default minutes): long enough for the
    // status polls (every 250 ms) to see the study waiting.
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(4);

    // The fault itself (not a wait for a condition): longer than the relay's storage retries (about 1.5 s) and than the
    // first steps of both sides' reconnect backoff.
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(3);
}
