using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using ServerlessImaging.Contracts;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.LocalRun;
using ServerlessImaging.Messaging.Channel;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>The audit records a registration must end with: how many of each action, nothing else but reads.</summary>
internal sealed class AuditExpectation
{
    private readonly Dictionary<string, int> exactly = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> atLeast = new(StringComparer.Ordinal);

    /// <summary>A completed registration: the HTTP requests, one search per site, one retrieval and store per study, the imaging manifest published.</summary>
    public static AuditExpectation Completed(int sites, int studies) => new AuditExpectation()
        .Exactly("RegistrationRequested", 1).Exactly("RegistrationStarted", 1).Exactly("SiteSearched", sites).Exactly("CandidatesReady", 1)
        .Exactly("SelectionRequested", 1).Exactly("SelectionMade", 1)
        .Exactly("RetrievalStarted", studies).Exactly("RetrievalCompleted", studies).Exactly("StudyStored", studies)
        .AtLeast("ManifestPublished", studies > 0 ? 1 : 0); // one revision per change of the available studies (how many depends on timing)

    public AuditExpectation Exactly(string eventType, int count)
    {
        exactly[eventType] = count;
        atLeast.Remove(eventType);
        return this;
    }

    public AuditExpectation AtLeast(string eventType, int count)
    {
        atLeast[eventType] = count;
        exactly.Remove(eventType);
        return this;
    }

    /// <summary>Every expected record is there (the trail is written by the orchestration's step activities, so it may lag the status).</summary>
    public bool IsReachedBy(IReadOnlyList<JsonElement> records) =>
        exactly.Concat(atLeast).All(e => records.Count(r => Type(r) == e.Key) >= e.Value);

    /// <summary>Fails naming what is missing, duplicated or unexpected.</summary>
    public void Verify(IReadOnlyList<JsonElement> records)
    {
        var types = records.Select(Type).ToList();
        var trail = string.Join(", ", types.Where(t => !IsRead(t)).GroupBy(t => t).Select(g => $"{g.Key}×{g.Count()}"));
        foreach (var (type, count) in exactly)
        {
            Assert.True(types.Count(t => t == type) == count, $"audit: {types.Count(t => t == type)} {type} record(s), expected {count}; trail: {trail}");
        }

        foreach (var (type, count) in atLeast)
        {
            Assert.True(types.Count(t => t == type) >= count, $"audit: {types.Count(t => t == type)} {type} record(s), expected at least {count}; trail: {trail}");
        }

        var unexpected = types.Where(t => !IsRead(t) && !exactly.ContainsKey(t) && !atLeast.ContainsKey(t)).Distinct().ToList();
        Assert.True(unexpected.Count == 0, $"audit: unexpected record type(s) {string.Join(", ", unexpected)}; trail: {trail}");

        // No record twice: neither the same id, nor the same action on the same site or study with the same detail (an
        // event applied twice). Actions without a site or study (a second selection) may repeat; their counts are exact.
        var ids = records.Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.True(ids.Distinct().Count() == ids.Count, "audit: a record id appears twice");
        var twice = records.Where(r => !IsRead(Type(r)) && (Text(r, "siteId").Length > 0 || StudyUids(r).Any()))
            .GroupBy(r => string.Join('|', Type(r), Text(r, "siteId"), Text(r, "outcomeDescription"), string.Join(',', StudyUids(r))))
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToList();
        Assert.True(twice.Count == 0, "audit: duplicated action(s): " + string.Join("; ", twice));

        // Each orchestration (the registration's, each study transfer's) numbers its records 1, 2, 3… in its own trail:
        // a gap is a lost record, a repeat a duplicate.
        foreach (var numbered in records.Where(r => r.TryGetProperty("sequence", out var n) && n.ValueKind == JsonValueKind.Number).GroupBy(r => Text(r, "stream")))
        {
            var sequence = numbered.Select(r => r.GetProperty("sequence").GetInt64()).Order().ToList();
            Assert.True(sequence.SequenceEqual(Enumerable.Range(1, sequence.Count).Select(i => (long)i)), $"audit: sequence of trail '{numbered.Key}' is not 1..n: " + string.Join(",", sequence));
        }
    }

    public static string Type(JsonElement record) => record.GetProperty("eventType").GetString()!;

    // Status and audit reads are recorded for every poll; their number says nothing about the flow.
    private static bool IsRead(string type) => type.EndsWith("Read", StringComparison.Ordinal);

    private static string Text(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;

    // Participant objects with the DICOM id type 110180 (Study Instance UID).
    private static IEnumerable<string> StudyUids(JsonElement record) =>
        record.TryGetProperty("participantObjects", out var objects)
            ? objects.EnumerateArray().Where(o => Text(o, "idTypeCode") == "110180").Select(o => Text(o, "id"))
            : [];
}

/// <summary>Reads of the shared services a fault test checks its outcome against.</summary>
internal static class Checks
{
    /// <summary>
    /// Each study's SOP instance UIDs in the DICOM service (QIDO-RS, one query per study, duplicates kept) equal the test's
    /// ground truth, and the API reports each Available with that many instances stored.
    /// </summary>
    public static async Task<int> AssertStoredExactlyAsync(FaultRig rig, RegistrationView status, IEnumerable<TestStudy> studies)
    {
        var total = 0;
        foreach (var study in studies)
        {
            var found = await StoredInstancesAsync(rig, study.StudyInstanceUid);
            var expected = study.SopInstanceUids.Order(StringComparer.Ordinal).ToList();
            Assert.True(
                found.SequenceEqual(expected),
                $"DICOM service holds {found.Count} instance(s) of study {study.StudyInstanceUid} ({found.Count - found.Distinct().Count()} duplicated, {found.Except(expected).Count()} unexpected, {expected.Except(found).Count()} missing); expected {expected.Count}");
            var view = status.Study(study.StudyInstanceUid);
            Assert.Equal("Available", view.GetProperty("status").GetString());
            Assert.Equal(expected.Count, view.GetProperty("instancesStored").GetInt32());
            total += found.Count;
        }

        return total;
    }

    /// <summary>SOP instance UIDs of a study in the DICOM service (QIDO-RS), sorted, duplicates kept.</summary>
    public static async Task<List<string>> StoredInstancesAsync(FaultRig rig, string studyUid)
    {
        using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = rig.Endpoints.DicomService.DicomWebBaseUrl });
        var found = new List<string>();
        await foreach (var instance in client.SearchAsync(QidoQuery.Instances(studyUid).Include("SOPInstanceUID")))
        {
            found.Add(instance.GetStringOrDefault(DicomTag.SOPInstanceUID)!.Trim());
        }

        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>Polls the trail until <paramref name="expected"/> is reached (or 30 s), then verifies it exactly.</summary>
    public static async Task<IReadOnlyList<JsonElement>> AssertAuditAsync(RcpFlow flow, string registrationId, AuditExpectation expected)
    {
        IReadOnlyList<JsonElement> records = [];
        await EventuallyAsync("the expected audit records", async () => expected.IsReachedBy(records = await flow.AuditAsync(registrationId)));
        expected.Verify(records);
        return records;
    }

    /// <summary>Messages (visible or leased) in a queue; 0 when it does not exist.</summary>
    public static async Task<int> QueueLengthAsync(FaultRig rig, string queue)
    {
        try
        {
            return (await new QueueClient(rig.StorageConnectionString, queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }

    /// <summary>Until the events queue(s) and every site's command queue are empty: nothing left unconsumed.</summary>
    public static async Task AssertQueuesDrainedAsync(FaultRig rig)
    {
        var queues = rig.EventsQueues.Concat(rig.TapQueue is { } tap ? [tap] : []).Concat(rig.Sites.Select(s => ResourceNames.CommandQueueFor(s.SiteId))).ToList();
        var left = new List<string>();
        var drained = await EventuallyAsync("empty queues", async () =>
        {
            left.Clear();
            foreach (var queue in queues)
            {
                var count = await QueueLengthAsync(rig, queue);
                if (count > 0)
                {
                    left.Add($"{queue}={count}");
                }
            }

            return left.Count == 0;
        });
        Assert.True(drained, "messages left unconsumed: " + string.Join(", ", left));
    }

    /// <summary>Polls <paramref name="condition"/> for up to 30 s; false when it never held (the caller says what is wrong).</summary>
    public static async Task<bool> EventuallyAsync(string what, Func<Task<bool>> condition)
    {
        try
        {
            await Waiting.UntilAsync(what, TimeSpan.FromSeconds(30), _ => condition(), CancellationToken.None);
            return true;
        }
        catch (LocalRunException)
        {
            return false;
        }
    }

    /// <summary>The poison records of a queue (peeked, left in place).</summary>
    public static async Task<IReadOnlyList<PoisonRecord>> PoisonAsync(FaultRig rig, string poisonQueue)
    {
        var client = new QueueClient(rig.StorageConnectionString, poisonQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        try
        {
            var peeked = await client.PeekMessagesAsync(32);
            return [.. peeked.Value.Select(m => PoisonRecord.Parse(m.Body.ToMemory().Span))];
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    /// <summary>No poison at all: every site's poison queue and the events poison queue(s) are empty.</summary>
    public static async Task AssertNoPoisonAsync(FaultRig rig)
    {
        foreach (var queue in PoisonQueues(rig))
        {
            var records = await PoisonAsync(rig, queue);
            Assert.True(records.Count == 0, $"{queue} holds {records.Count} message(s): {string.Join("; ", records.Select(r => $"{r.Report.Type}/{r.Report.Reason}: {r.Report.Detail}"))}");
        }
    }

    public static IEnumerable<string> PoisonQueues(FaultRig rig) =>
        rig.Sites.Select(s => ResourceNames.PoisonQueueFor(s.SiteId)).Concat(rig.EventsQueues.Concat(rig.TapQueue is { } tap ? [tap] : []).Select(ResourceNames.PoisonQueueOf));

    /// <summary>Blobs left in staging under a registration (or "registration/study") prefix: the store activity deletes a study's once stored.</summary>
    public static async Task<int> StagedBlobsAsync(FaultRig rig, string prefix)
    {
        var count = 0;
        foreach (var site in rig.Sites)
        {
            var container = new BlobContainerClient(rig.StorageConnectionString, ResourceNames.StagingContainerFor(site.SiteId));
            if (!await container.ExistsAsync())
            {
                continue;
            }

            await foreach (var _ in container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix + "/" }))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The common end of a fault test whose registration must complete: the DICOM service holds exactly the studies,
    /// the trail is complete without duplicates, no message is left or poisoned, staging is clean. Returns a summary.
    /// </summary>
    public static Task<string> AssertCompletedCleanlyAsync(FaultRig rig, RcpFlow flow, string registrationId, IReadOnlyList<TestStudy> studies, AuditExpectation audit, bool expectNoPoison = true) =>
        AssertFinishedCleanlyAsync(rig, flow, registrationId, studies, [], audit, expectNoPoison);

    /// <summary>
    /// As <see cref="AssertCompletedCleanlyAsync"/>, where some studies must end Failed with a reason code (and nothing of
    /// them in the DICOM service) while the others are available.
    /// </summary>
    public static async Task<string> AssertFinishedCleanlyAsync(FaultRig rig, RcpFlow flow, string registrationId, IReadOnlyList<TestStudy> available, IReadOnlyList<(TestStudy Study, string Code)> failed, AuditExpectation audit, bool expectNoPoison = true)
    {
        var status = new RegistrationView(await flow.WaitForCompletedAsync(registrationId));
        var instances = await AssertStoredExactlyAsync(rig, status, available);
        foreach (var (study, code) in failed)
        {
            var view = status.Study(study.StudyInstanceUid);
            Assert.Equal("Failed", view.GetProperty("status").GetString());
            Assert.Equal(code, view.GetProperty("failure").GetProperty("code").GetString());
            Assert.Empty(await StoredInstancesAsync(rig, study.StudyInstanceUid));
        }

        await AssertQueuesDrainedAsync(rig);
        var records = await AssertAuditAsync(flow, registrationId, audit);
        if (expectNoPoison)
        {
            await AssertNoPoisonAsync(rig);
        }

        foreach (var study in available)
        {
            Assert.Equal(0, await StagedBlobsAsync(rig, registrationId + "/" + study.StudyInstanceUid));
        }

        if (failed.Count == 0)
        {
            Assert.Equal(0, await StagedBlobsAsync(rig, registrationId));
        }

        rig.EnsureAllRunning();
        var failures = failed.Count == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {failed.Count} failed cleanly ({string.Join(", ", failed.Select(f => f.Code))})");
        return string.Create(CultureInfo.InvariantCulture, $"Completed; {available.Count} stud(ies) Available, {instances} instance(s) in the DICOM service = manifest{failures}; {records.Count(r => !AuditExpectation.Type(r).EndsWith("Read", StringComparison.Ordinal))} audit records, none duplicated");
    }
}
