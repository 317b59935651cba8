using System.Globalization;
using ServerlessImaging.Contracts;
using ServerlessImaging.EndToEnd.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Faults;

/// <summary>
/// Every message of a registration delivered at least twice and out of order: the relays' events go through an
/// <see cref="EventShuffler"/> (each group reversed then sent again, progress after completion), the app's commands are
/// doubled in reverse order on the command queues; after the registration completed, every event and command is sent
/// once more. Nothing may happen twice.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class DuplicateAndReorderTests(LocalStackFixture stack, FaultTable table)
{
    [Fact]
    public Task Duplicated_and_reordered_commands_and_events_change_nothing() => table.RunAsync(
        "duplicate and reorder queue messages (every command and event twice, out of order, and again after completion)",
        "duplicates ignored by the relays and the orchestrator; registration Completed once, nothing stored, audited or staged twice",
        async () =>
        {
            var nord = SharedRig.Pacs(stack, "chu-nord");
            var sud = SharedRig.Pacs(stack, "clinique-sud");
            var patient = TestPatient.New();
            TestStudy[] studies = [await patient.AddStudyAsync(nord, 3), await patient.AddStudyAsync(sud, 2)];
            RigSite[] sites = [RigSite.ByGet("nord", nord), RigSite.ByGet("sud", sud)];
            await using var rig = await FaultRig.StartAsync(stack, "dup-reorder", sites, new RigOptions { TapRelayEvents = true, StartRelays = false });
            await using var shuffler = new EventShuffler(rig.StorageConnectionString, rig.TapQueue!, message => rig.EventsQueueFor(message.Envelope?.SiteId ?? rig.Sites[0].SiteId));
            var commands = sites.Select(s => new CommandDuplicator(rig.StorageConnectionString, ResourceNames.CommandQueueFor(s.SiteId))).ToList();
            var flow = new RcpFlow(rig);

            // Search: the FindStudies wait (relays not started yet), get doubled, then the relays take them.
            var registrationId = await flow.RegisterAsync(patient);
            foreach (var duplicator in commands)
            {
                await duplicator.DuplicateWaitingAsync(expected: 1);
            }

            foreach (var site in sites)
            {
                await rig.StartRelayAsync(site);
            }

            await flow.WaitForCandidatesAsync(registrationId, 2);

            // Retrieval: the same with the RetrieveStudy commands (relays stopped gracefully while they are queued).
            foreach (var site in sites)
            {
                await rig.StopRelayAsync(site);
            }

            await flow.SelectAsync(registrationId, studies.Select(s => s.StudyInstanceUid));
            foreach (var duplicator in commands)
            {
                await duplicator.DuplicateWaitingAsync(expected: 1);
            }

            foreach (var site in sites)
            {
                await rig.StartRelayAsync(site);
            }

            var expectation = AuditExpectation.Completed(sites: 2, studies: 2);
            await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies, expectation);

            // Late duplicates of everything, once the registration is done.
            var replayedEvents = await shuffler.ReplayAllAsync();
            var replayedCommands = 0;
            foreach (var duplicator in commands)
            {
                replayedCommands += await duplicator.ReplayAllAsync();
            }

            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies, expectation);
            Assert.True(shuffler.Reordered > 0, "no event was delivered out of order: " + string.Join(", ", shuffler.ReceivedTypes));
            return string.Create(CultureInfo.InvariantCulture,
                $"{shuffler.Received} relay events: {shuffler.Duplicated} duplicated, {shuffler.Reordered} out of order, {replayedEvents} replayed after completion; {commands.Sum(c => c.Duplicated)} commands doubled, {replayedCommands} replayed; {outcome}");
        });
}
