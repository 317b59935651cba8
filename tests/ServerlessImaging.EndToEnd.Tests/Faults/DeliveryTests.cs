using System.Globalization;
using System.Text.Json;
using ServerlessImaging.EndToEnd.Tests.Support;
using ServerlessImaging.LocalRun;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Faults;

/// <summary>
/// Delivery to the meeting site's own PACS (a private dcmqrscp behind a slow forwarder): the destination is down when the
/// studies become available, then back; the delivering relay is killed mid-delivery. The destination must end holding
/// exactly the selected studies' instances, once each, and the imaging manifest; every transfer is audited.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class DeliveryTests(LocalStackFixture stack, FaultTable table)
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(3);

    [Fact]
    public Task Studies_and_the_manifest_reach_the_meeting_sites_pacs_through_an_outage_and_a_relay_kill() => table.RunAsync(
        "deliver to the meeting site's PACS: destination down at first, then the delivering relay killed mid-delivery",
        "deliveries wait for a durable-timer retry while the destination is down and resume once it is back; the killed relay resumes from its journal; the destination holds exactly the selected instances (C-FIND IMAGE), once each, and the manifest; each transfer audited",
        async () =>
        {
            var directory = Path.Combine(stack.RepositoryRootPath, ".local", "fault-suite", "meeting-pacs-" + Guid.NewGuid().ToString("N")[..8]);
            await using var destination = PrivatePacs.Create(directory, [("SI_RELAY_SUD", 11122)]);
            await using var slow = new LoopbackTcpForwarder(destination.Address.Port, TimeSpan.FromMilliseconds(40));
            var nord = SharedRig.Pacs(stack, "chu-nord");
            var patient = TestPatient.New();
            // The large study takes seconds through the slow forwarder, so the kill lands mid-delivery.
            TestStudy[] studies = [await patient.AddStudyAsync(nord, 60, 192), await patient.AddStudyAsync(nord, 3)];
            var site = RigSite.ByGet("nord", nord);
            site.RelaySettings["Relay__Delivery__AllowedDestinations__0__AeTitle"] = PrivatePacs.AeTitle;
            site.RelaySettings["Relay__Delivery__AllowedDestinations__0__Host"] = "127.0.0.1";
            site.RelaySettings["Relay__Delivery__AllowedDestinations__0__Port"] = slow.Port.ToString(CultureInfo.InvariantCulture);
            var options = new RigOptions { AppSettings = { ["Orchestration__RetrievalRetryInterval"] = RetryInterval.ToString("c", CultureInfo.InvariantCulture) } };
            await using var rig = await FaultRig.StartAsync(stack, "delivery", [site], options);
            var flow = new RcpFlow(rig);

            // The destination is down (not started yet) when the studies become available.
            var registrationId = await flow.RegisterAsync(patient, new { siteId = site.SiteId, aeTitle = PrivatePacs.AeTitle, host = "127.0.0.1", port = slow.Port });
            await flow.WaitForCandidatesAsync(registrationId, 2);
            await flow.SelectAsync(registrationId, studies.Select(s => s.StudyInstanceUid));
            var waiting = new RegistrationView(await flow.WaitForAsync(registrationId, "a delivery waiting for its retry (destination down)",
                s => Deliveries(s).Any(d => d.GetProperty("status").GetString() == "WaitingForRetry")));
            var reason = Deliveries(waiting).First(d => d.GetProperty("status").GetString() == "WaitingForRetry").GetProperty("failure").GetProperty("code").GetString();

            // Back: the retry timer sends it again; the large study is killed in the middle of its delivery.
            await destination.StartAsync();
            var large = studies[0].StudyInstanceUid;
            var midway = new RegistrationView(await flow.WaitForAsync(registrationId, "the large study's delivery under way",
                s => Deliveries(s).Any(d => d.GetProperty("studyInstanceUid").GetString() == large && d.GetProperty("status").GetString() == "Delivering" && d.GetProperty("instancesDone").GetInt32() >= 2)));
            var doneAtKill = Deliveries(midway).Single(d => d.GetProperty("studyInstanceUid").GetString() == large).GetProperty("instancesDone").GetInt32();
            await rig.KillRelayAsync(site);
            await rig.StartRelayAsync(site);

            var done = new RegistrationView(await flow.WaitForAsync(registrationId, "every delivery Delivered",
                s => s.Status == "Completed" && Deliveries(s).Count >= 3 && Deliveries(s).All(d => d.GetProperty("status").GetString() is "Delivered" or "Cancelled"),
                TimeSpan.FromSeconds(180)));

            // Exactly the selected instances at the destination, each once (a duplicate C-STORE would be listed twice).
            foreach (var study in studies)
            {
                var held = await InstancesAtAsync(destination, study.StudyInstanceUid);
                Assert.Equal(study.SopInstanceUids.Order(StringComparer.Ordinal), held);
            }

            var manifest = done.Json.GetProperty("manifest");
            var manifestStudy = Deliveries(done).Last(d => d.GetProperty("isManifest").GetBoolean()).GetProperty("studyInstanceUid").GetString()!;
            Assert.Contains(manifest.GetProperty("documentUid").GetString()!, await InstancesAtAsync(destination, manifestStudy));

            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies,
                AuditExpectation.Completed(sites: 1, studies: 2)
                    .AtLeast("ManifestPublished", 1).AtLeast("DeliveryStarted", 4).AtLeast("DeliveryCompleted", 3).AtLeast("DeliveryRetryScheduled", 1));
            var records = await flow.AuditAsync(registrationId);
            foreach (var study in studies)
            {
                var completed = Assert.Single(records, r => AuditExpectation.Type(r) == "DeliveryCompleted" && Text(r).Contains("instances=" + study.SopInstanceUids.Count.ToString(CultureInfo.InvariantCulture) + " ", StringComparison.Ordinal)
                    && r.GetProperty("participantObjects").EnumerateArray().Any(o => o.GetProperty("id").GetString() == study.StudyInstanceUid));
                Assert.Contains(completed.GetProperty("activeParticipants").EnumerateArray(), p => p.GetProperty("userId").GetString() == PrivatePacs.AeTitle && p.GetProperty("role").GetString() == "destination");
            }

            return string.Create(CultureInfo.InvariantCulture, $"destination down: delivery WaitingForRetry ({reason}), resent by the timer once back; relay killed at {doneAtKill}/{studies[0].SopInstanceUids.Count} and restarted: delivery resumed; destination holds the {studies.Sum(s => s.SopInstanceUids.Count)} selected instances once each + the manifest; {outcome}");
        });

    private static IReadOnlyList<JsonElement> Deliveries(RegistrationView view) =>
        view.Json.TryGetProperty("deliveries", out var deliveries) && deliveries.ValueKind == JsonValueKind.Array ? [.. deliveries.EnumerateArray()] : [];

    private static string Text(JsonElement record) => record.GetProperty("outcomeDescription").GetString() ?? string.Empty;

    // dcmqrscp answers hierarchical queries only: the study's series first, then the instances of each (IMAGE level).
    private static async Task<IReadOnlyList<string>> InstancesAtAsync(PrivatePacs pacs, string studyUid)
    {
        var association = new DicomAssociation(pacs.Address.Host, pacs.Address.Port, PrivatePacs.AeTitle, "SI_TEST");
        var series = await DcmtkScu.FindAsync(association, "SERIES", [$"StudyInstanceUID={studyUid}", "SeriesInstanceUID"], CancellationToken.None);
        var instances = new List<string>();
        foreach (var seriesUid in series.Select(s => s["SeriesInstanceUID"]).OfType<string>())
        {
            var found = await DcmtkScu.FindAsync(association, "IMAGE", [$"StudyInstanceUID={studyUid}", $"SeriesInstanceUID={seriesUid}", "SOPInstanceUID"], CancellationToken.None);
            instances.AddRange(found.Select(f => f["SOPInstanceUID"] ?? string.Empty));
        }

        return [.. instances.Order(StringComparer.Ordinal)];
    }
}
