using System.Diagnostics;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Tests.Delivery;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Network;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Process;

/// <summary>
/// <c>si-relay</c> as a separate process, killed (SIGKILL) in the middle of a delivery into the meeting PACS, restarted on
/// the same spool: the same command comes back after its lease and sends only what the killed relay's journal does not
/// record. The destination's C-FIND is off here so that the journal alone decides what is skipped.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class DeliveryKillAndResumeTests(LocalStackFixture stack)
{
    private const int Instances = 150;

    [Fact]
    public async Task A_relay_killed_mid_delivery_resumes_the_same_command_sending_only_what_its_journal_lacks()
    {
        var study = await TestStudy.CreateInDicomServiceAsync(stack, series: 1, instancesPerSeries: Instances);
        var meeting = stack.Endpoints.RequireMeetingPacs();
        // A slowed path to the meeting PACS keeps the delivery certainly running when the kill comes.
        await using var slow = new LoopbackTcpForwarder(meeting.DicomPort, TimeSpan.FromMilliseconds(3));
        var destination = DeliverStudyTests.MeetingPacs(stack, slow.Port);
        await using var relay = DeliverStudyTests.Relay(stack, destination, tweak: s => s["Relay:Delivery:QueryDestination"] = "false");
        var command = relay.Command(DeliverStudyTests.Deliver(stack, study, destination));
        var journalPath = relay.DeliveryJournalPath(study.StudyInstanceUid, destination);

        IReadOnlyList<string> atKill;
        using (var first = KillAndResumeTests.StartRelayProcess(relay))
        {
            await relay.SendAsync(command);
            var deadline = Stopwatch.StartNew();
            do
            {
                Assert.False(first.HasExited, "the relay process exited on its own");
                await Task.Delay(20);
                atKill = await DeliverStudyTests.AtMeetingPacsAsync(stack, study.StudyInstanceUid);
            }
            while (atKill.Count < 5 && deadline.Elapsed < TimeSpan.FromSeconds(60));

            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no cleanup
            await first.WaitForExitAsync();
            atKill = await DeliverStudyTests.AtMeetingPacsAsync(stack, study.StudyInstanceUid);
            Assert.InRange(atKill.Count, 5, Instances - 1);
        }

        // What the killed relay recorded is what it resumes from; each record is an instance the destination holds.
        var recorded = DeliveryJournalFormat.Instance.Parse(await File.ReadAllBytesAsync(journalPath), DeliveryJournalFormat.IdentityOf(study.StudyInstanceUid, destination)).Records.Keys;
        Assert.InRange(recorded.Count, 1, atKill.Count);
        Assert.All(recorded, sop => Assert.Contains(sop, atKill));

        using var second = KillAndResumeTests.StartRelayProcess(relay);
        try
        {
            // Same message, redelivered once its lease (10 s here) runs out.
            var answer = await relay.WaitForEventAsync(e => e.CausationId == command.MessageId && e.Body is DeliveryCompleted or DeliveryFailed, TimeSpan.FromSeconds(90));
            var completed = Assert.IsType<DeliveryCompleted>(answer.Body);

            Assert.Equal(Instances, completed.InstancesTotal);
            Assert.Equal(recorded.Count, completed.InstancesAlreadyPresent);
            Assert.Equal(Instances - recorded.Count, completed.InstancesSent);
            Assert.Equal(study.SeriesBySop.Keys.Order(StringComparer.Ordinal), await DeliverStudyTests.AtMeetingPacsAsync(stack, study.StudyInstanceUid));
            Assert.Contains(relay.Events, e => e.CausationId == command.MessageId && e.Body is DeliveryProgress { InstancesTotal: Instances } p && p.InstancesDone > 0);

            var deadline = Stopwatch.StartNew();
            while (File.Exists(journalPath) && deadline.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50);
            }

            Assert.False(File.Exists(journalPath), "the journal outlived the completed delivery");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }
}
