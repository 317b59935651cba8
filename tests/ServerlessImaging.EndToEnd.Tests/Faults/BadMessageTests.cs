using System.Globalization;
using System.Net;
using System.Text;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.EndToEnd.Tests.Support;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.EndToEnd.Tests.Faults;

/// <summary>
/// Messages that can never be handled, on every queue of a running system, while a registration goes through it:
/// malformed commands on each site's command queue (the relay quarantines them), malformed events on the events queue
/// (the app quarantines them), and well-formed events for a registration that does not exist.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class BadMessageTests(FaultTable table, SharedRig shared)
{
    [Fact]
    public Task Malformed_messages_on_every_queue_are_quarantined_as_sent_and_the_registration_completes() => table.RunAsync(
        "malformed messages on each site's command queue and on the events queue",
        "each quarantined with its raw text (relay: command poison queue, app: events poison queue); a readable command's report names its registration, unreadable ones are logged by the app; registration unaffected",
        async () =>
        {
            var rig = await shared.GetAsync();
            var transport = new StorageQueueTransport(rig.StorageConnectionString);
            var baseline = await PoisonBaselineAsync(rig);

            // Three kinds of garbage per queue, each unique to this run so the poison queues can be matched exactly.
            var injected = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var firstEventsQueue = rig.EventsQueueFor(rig.Sites[0].SiteId);
            foreach (var queue in rig.Sites.Select(s => ResourceNames.CommandQueueFor(s.SiteId)).Append(firstEventsQueue))
            {
                var site = rig.Sites.FirstOrDefault(s => ResourceNames.CommandQueueFor(s.SiteId) == queue)?.SiteId ?? rig.Sites[0].SiteId;
                var bad = Garbage(site);
                foreach (var text in bad)
                {
                    await transport.SendAsync(queue, Encoding.UTF8.GetBytes(text), null, CancellationToken.None);
                }

                injected[queue] = bad;
            }

            var patient = TestPatient.New();
            var studies = new[]
            {
                await patient.AddStudyAsync(SharedRig.Pacs(shared.Stack, "chu-nord"), instances: 2),
                await patient.AddStudyAsync(SharedRig.Pacs(shared.Stack, "clinique-sud"), instances: 1),
            };
            var flow = new RcpFlow(rig);
            var registrationId = await flow.RegisterAsync(patient);
            await flow.WaitForCandidatesAsync(registrationId, 2);
            await flow.SelectAsync(registrationId, studies.Select(s => s.StudyInstanceUid));
            var outcome = await Checks.AssertCompletedCleanlyAsync(rig, flow, registrationId, studies, AuditExpectation.Completed(sites: 2, studies: 2), expectNoPoison: false);

            // Each command poison queue: exactly this run's three, raw text unchanged.
            foreach (var site in rig.Sites)
            {
                var queue = ResourceNames.CommandQueueFor(site.SiteId);
                var added = await AddedPoisonAsync(rig, ResourceNames.PoisonQueueFor(site.SiteId), baseline, expected: 3);
                Assert.Equal(injected[queue].Order(StringComparer.Ordinal), added.Select(r => r.Raw).Order(StringComparer.Ordinal));
                Assert.All(added, r => Assert.Equal(PoisonReason.Malformed, r.Report.Reason));
            }

            // The sites' events poison queues: this run's three malformed events on the first site's, plus in each site's its
            // relay's answer to the one command it could still read (the newer-schema Echo, correlation "reg-" + its id): a
            // CommandFailed for that registration, which does not exist, so the app quarantines it in turn. The two
            // unreadable ones are unsolicited reports: logged and counted, not kept.
            var events = new List<PoisonRecord>();
            foreach (var site in rig.Sites)
            {
                var expected = site == rig.Sites[0] ? 3 + 1 : 1;
                events.AddRange(await AddedPoisonAsync(rig, ResourceNames.PoisonQueueOf(rig.EventsQueueFor(site.SiteId)), baseline, expected));
            }

            var malformed = events.Where(r => r.Report.Reason == PoisonReason.Malformed).ToList();
            Assert.Equal(injected[firstEventsQueue].Order(StringComparer.Ordinal), malformed.Select(r => r.Raw).Order(StringComparer.Ordinal));
            var relayReports = events.Except(malformed).Select(r => MessageCodec.Deserialize(Encoding.UTF8.GetBytes(r.Raw))).ToList();
            Assert.All(relayReports, e => Assert.True(
                e.Body is CommandFailed { Reason: FailureReason.InvalidCommand } && e.CorrelationId == "reg-" + e.CausationId
                && e.CausationId!.StartsWith("newer-schema-", StringComparison.Ordinal) && e.MessageId == e.CausationId + "/" + RelayPoisonReports.ReportIdSuffix,
                $"unexpected event poison: {e.Type} for {e.CorrelationId}"));
            Assert.Equal(rig.Sites.Select(s => s.SiteId).Order(StringComparer.Ordinal), relayReports.Select(e => e.SiteId).Order(StringComparer.Ordinal));
            var log = rig.Log("app");
            foreach (var site in rig.Sites)
            {
                Assert.Equal(2, CountOf(log, $"Relay of site {site.SiteId} quarantined message "));
            }

            var reports = 3 * rig.Sites.Count;
            return string.Create(CultureInfo.InvariantCulture, $"{outcome}; quarantined: 3 per command queue ×{rig.Sites.Count} and 3 on the events queue, raw text kept; of the relays' {reports} poison reports, the {rig.Sites.Count} naming a (nonexistent) registration land in the events poison queue, the others are logged");
        });

    [Fact]
    public Task Events_for_an_unknown_registration_are_quarantined_and_create_nothing() => table.RunAsync(
        "well-formed events for a registration that does not exist",
        "quarantined in the events poison queue with a log line; no registration, no audit record",
        async () =>
        {
            var rig = await shared.GetAsync();
            var baseline = await PoisonBaselineAsync(rig);
            var channel = ScriptedChannel(rig);
            var unknown = "reg-unknown-" + Guid.NewGuid().ToString("N")[..12];
            var site = rig.Sites[0].SiteId;
            RelayEvent[] bodies =
            [
                new StudiesFound([]),
                new RetrievalProgress("2.25.1", 1, 2, 100),
                new RetrievalCompleted("2.25.1", []),
                new CommandFailed(nameof(RetrieveStudyCommand), FailureReason.PacsUnreachable, "The PACS did not answer."),
            ];
            var sent = new List<string>();
            foreach (var body in bodies)
            {
                var envelope = new MessageEnvelope($"{unknown}/event/{sent.Count}", unknown, $"{unknown}/command", site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, body);
                await channel.SendAsync(rig.EventsQueueFor(site), envelope, CancellationToken.None);
                sent.Add(envelope.MessageId);
            }

            var added = await AddedPoisonAsync(rig, ResourceNames.PoisonQueueOf(rig.EventsQueueFor(site)), baseline, expected: bodies.Length);
            Assert.Equal(sent.Order(StringComparer.Ordinal), added.Select(r => r.Report.MessageId!).Order(StringComparer.Ordinal));
            Assert.All(added, r => Assert.Equal(PoisonReason.RejectedByConsumer, r.Report.Reason));
            var log = rig.Log("app");
            Assert.All(sent, id => Assert.Contains($"Relay event {id} (", log, StringComparison.Ordinal));

            // Nothing was created for it: no registration, no audit record.
            await rig.Api.SendAsync(HttpMethod.Get, "/registrations/" + unknown, "registrar", null, HttpStatusCode.NotFound, CancellationToken.None);
            var trail = await new RcpFlow(rig).AuditAsync(unknown);
            Assert.All(trail, r => Assert.True(AuditExpectation.Type(r) == "RegistrationStatusRead" && r.GetProperty("outcome").GetInt32() == 4, "a record other than the test's own refused read: " + AuditExpectation.Type(r)));
            await Checks.AssertQueuesDrainedAsync(rig);
            return string.Create(CultureInfo.InvariantCulture, $"{added.Count} of {bodies.Length} events quarantined (RejectedByConsumer) with a warning each; GET /registrations/{{id}} 404; no audit record but the test's own refused read");
        });

    private static List<string> Garbage(string siteId)
    {
        var id = Guid.NewGuid().ToString("N");
        var valid = Encoding.UTF8.GetString(MessageCodec.Serialize(new MessageEnvelope("fault-" + id, "reg-fault-" + id, null, siteId, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new EchoCommand())));
        return
        [
            "not a message at all {" + id,
            valid.Replace("\"type\":\"Echo\"", "\"type\":\"FormatDisk\"", StringComparison.Ordinal).Replace("fault-" + id, "unknown-type-" + id, StringComparison.Ordinal),
            valid.Replace("\"schemaVersion\":1", "\"schemaVersion\":99", StringComparison.Ordinal).Replace("fault-" + id, "newer-schema-" + id, StringComparison.Ordinal),
        ];
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static MessageChannel ScriptedChannel(FaultRig rig) =>
        new(new StorageQueueTransport(rig.StorageConnectionString), null, new MessageChannelOptions { CreateQueuesIfMissing = true });

    private static async Task<Dictionary<string, HashSet<string>>> PoisonBaselineAsync(FaultRig rig)
    {
        var baseline = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var queue in Checks.PoisonQueues(rig))
        {
            baseline[queue] = [.. (await Checks.PoisonAsync(rig, queue)).Select(Key)];
        }

        return baseline;
    }

    /// <summary>Waits until <paramref name="expected"/> new records are in <paramref name="queue"/>, then returns the new ones (failing if there are more).</summary>
    private static async Task<IReadOnlyList<PoisonRecord>> AddedPoisonAsync(FaultRig rig, string queue, Dictionary<string, HashSet<string>> baseline, int expected)
    {
        List<PoisonRecord> added = [];
        await Checks.EventuallyAsync($"{expected} new record(s) in {queue}", async () =>
        {
            added = [.. (await Checks.PoisonAsync(rig, queue)).Where(r => !baseline[queue].Contains(Key(r)))];
            return added.Count >= expected;
        });

        // Settle: anything more arriving would be a duplicate or a message quarantined that should not have been.
        await Checks.AssertQueuesDrainedAsync(rig);
        added = [.. (await Checks.PoisonAsync(rig, queue)).Where(r => !baseline[queue].Contains(Key(r)))];
        Assert.True(added.Count == expected, $"{queue}: {added.Count} new poison record(s), expected {expected}: {string.Join("; ", added.Select(r => $"{r.Report.Type}/{r.Report.Reason}: {r.Report.Detail}"))}");
        return added;
    }

    // The original message's transport id: what a poison record is the quarantine of.
    private static string Key(PoisonRecord record) => record.Report.TransportMessageId;
}
