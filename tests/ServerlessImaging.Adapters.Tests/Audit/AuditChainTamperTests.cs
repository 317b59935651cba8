using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Stack;
using Xunit.Abstractions;

namespace ServerlessImaging.Adapters.Tests.Audit;

/// <summary>
/// The sealed trail against the Cosmos DB stand-in: a trail is written through <see cref="CosmosAuditTrail"/>, then
/// changed behind its back with full rights on the container (as someone with database access would), and the verifier
/// must name exactly what was changed.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AuditChainTamperTests(LocalStackFixture stack, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private CosmosClient? client;
    private Container container = null!;
    private CosmosAuditTrail trail = null!;
    private CosmosAuditVerification verification = null!;

    // Far enough back that nothing is "awaiting its seal", within one UTC day so swaps stay in one partition.
    private readonly DateTimeOffset start = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1).AddHours(9);

    public async Task InitializeAsync()
    {
        var (c, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "auditchain");
        client = c;
        container = database.GetContainer("audit");
        trail = new CosmosAuditTrail(container, "test");
        verification = new CosmosAuditVerification(trail, TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await client.GetDatabase(container.Database.Id).DeleteAsync();
            client.Dispose();
        }
    }

    private static WriteAuditActivity Step(string registrationId, long sequence, DateTimeOffset recordedAt, AuditAction action = AuditAction.SiteSearched) =>
        new($"{registrationId}/step/{sequence}", registrationId, recordedAt, action, AuditOutcome.Success, "pk1-0123456789abcdef0123456789abcdef", null, "chu-nord", null, "3 studies returned")
        { Sequence = sequence, RecordedAt = recordedAt };

    private static AuditRecord Request(string id, DateTimeOffset recordedAt, string? registrationId = null) => new()
    {
        Id = id,
        PartitionKey = AuditRecord.PartitionKeyFor(recordedAt),
        EventId = AuditEventIds.PatientRecord,
        EventType = "RegistrationStatusRead",
        ActionCode = AuditActionCodes.Read,
        DateTime = recordedAt.AddMilliseconds(-40),
        RecordedAt = recordedAt,
        Outcome = AuditOutcomeCodes.Success,
        AuditSource = "test",
        ActiveParticipants = [new AuditParticipant("user-7", "user", true, "registrar", "10.0.0.7")],
        ParticipantObjects = registrationId is null ? [] : [AuditParticipantObject.Registration(registrationId)],
        UserId = "user-7",
        RegistrationId = registrationId,
    };

    /// <summary>Two registrations of six numbered records and six request records, interleaved in time.</summary>
    private async Task<List<AuditRecord>> WriteTrailAsync()
    {
        for (var i = 1; i <= 6; i++)
        {
            await trail.WriteAsync(Step("reg-a", i, start.AddSeconds(i * 10)), CancellationToken.None);
            await trail.WriteAsync(Step("reg-b", i, start.AddSeconds((i * 10) + 3)), CancellationToken.None);
            await trail.AppendAsync(Request($"au-request-{i}", start.AddSeconds((i * 10) + 6), i % 2 == 0 ? "reg-a" : null), CancellationToken.None);
        }

        return [.. await trail.QueryAllAsync(new AuditQuery(), CancellationToken.None)];
    }

    private Task<AuditVerificationReport> VerifyDayAsync() => verification.VerifyRangeAsync(start.AddHours(-1), start.AddHours(1), null, CancellationToken.None);

    private static AuditRecord Of(List<AuditRecord> records, string registrationId, long sequence) =>
        records.Single(r => r.RegistrationId == registrationId && r.Sequence == sequence);

    // Rewrites a stored document field by field, as a database user could (hash fields untouched unless asked).
    private async Task EditAsync(AuditRecord record, Action<JsonObject> change)
    {
        var response = await container.ReadItemStreamAsync(record.Id, new PartitionKey(record.PartitionKey));
        var document = JsonNode.Parse(response.Content)!.AsObject();
        change(document);
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(document.ToJsonString()));
        using var replaced = await container.ReplaceItemStreamAsync(body, record.Id, new PartitionKey(record.PartitionKey));
        Assert.True(replaced.IsSuccessStatusCode, replaced.StatusCode.ToString());
    }

    private async Task DeleteAsync(AuditRecord record)
    {
        using var response = await container.DeleteItemStreamAsync(record.Id, new PartitionKey(record.PartitionKey));
        Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
    }

    // A forged record as a careful forger would make it: right shape, correct own hash, correct registration link.
    private async Task<AuditRecord> ForgeAsync(List<AuditRecord> records)
    {
        var last = Of(records, "reg-a", 6);
        var forged = Request("au-forged", last.RecordedAt.AddSeconds(1), "reg-a") with { Sequence = 7, PreviousHash = last.Hash, EventType = "StudyDeleted" };
        forged = forged with { Hash = AuditCanonicalForm.HashOf(forged) };
        var node = JsonSerializer.SerializeToNode(forged, Web)!.AsObject();
        node["sortKey"] = AuditDocument.SortKey(forged);
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(node.ToJsonString()));
        using var created = await container.CreateItemStreamAsync(body, new PartitionKey(forged.PartitionKey));
        Assert.True(created.IsSuccessStatusCode, created.StatusCode.ToString());
        return forged;
    }

    // Exchanges when two records say they happened (recorded-at, sequence and the derived sort key).
    private async Task SwapAsync(AuditRecord first, AuditRecord second)
    {
        await EditAsync(first, d =>
        {
            d["recordedAt"] = second.RecordedAt;
            d["sequence"] = second.Sequence;
            d["sortKey"] = AuditDocument.SortKey(first with { RecordedAt = second.RecordedAt, Sequence = second.Sequence });
        });
        await EditAsync(second, d =>
        {
            d["recordedAt"] = first.RecordedAt;
            d["sequence"] = first.Sequence;
            d["sortKey"] = AuditDocument.SortKey(second with { RecordedAt = first.RecordedAt, Sequence = first.Sequence });
        });
    }

    private List<(AuditFindingKind Kind, string? RecordId)> Tampering(AuditVerificationReport report)
    {
        foreach (var finding in report.Findings)
        {
            output.WriteLine(finding.ToString());
        }

        return [.. report.Findings.Where(f => f.IsTampering).Select(f => (f.Kind, f.RecordId)).OrderBy(f => f.Kind).ThenBy(f => f.RecordId, StringComparer.Ordinal)];
    }

    [Fact]
    public async Task An_untouched_trail_verifies_clean_by_range_and_by_registration()
    {
        var records = await WriteTrailAsync();
        Assert.Equal(18, records.Count);
        Assert.All(records, r => Assert.Equal(AuditCanonicalForm.HashOf(r), r.Hash));
        Assert.Null(Of(records, "reg-a", 1).PreviousHash);
        Assert.Equal(Of(records, "reg-a", 3).Hash, Of(records, "reg-a", 4).PreviousHash);

        var report = await VerifyDayAsync();
        Assert.True(report.Intact);
        Assert.Empty(report.Findings);
        Assert.Equal(18, report.RecordsSealed);
        Assert.Equal(1, report.FirstBlock);

        var registration = await verification.VerifyRegistrationAsync("reg-b", null, CancellationToken.None);
        Assert.True(registration.Intact);
        Assert.Empty(registration.Findings);
    }

    [Fact]
    public async Task An_edited_field_is_named_and_nothing_else()
    {
        var records = await WriteTrailAsync();
        var edited = Of(records, "reg-a", 3);
        await EditAsync(edited, d => d["outcomeDescription"] = "0 studies returned");

        var report = await VerifyDayAsync();
        Assert.False(report.Intact);
        Assert.Equal([(AuditFindingKind.Edited, edited.Id)], Tampering(report));
        Assert.Equal("content_hash_mismatch", report.Findings[0].Code);

        // Recomputing the stored hash does not hide it: the chain sealed the original.
        await EditAsync(edited, d => d["hash"] = AuditCanonicalForm.HashOf(edited with { OutcomeDescription = "0 studies returned" }));
        Assert.Equal([(AuditFindingKind.Edited, edited.Id)], Tampering(await VerifyDayAsync()));
        Assert.Equal([(AuditFindingKind.Edited, edited.Id)], Tampering(await verification.VerifyRegistrationAsync("reg-a", null, CancellationToken.None)));
    }

    [Fact]
    public async Task A_deleted_record_is_named_once_by_range_and_as_a_gap_by_registration()
    {
        var records = await WriteTrailAsync();
        var deleted = Of(records, "reg-b", 4);
        await DeleteAsync(deleted);

        var report = await VerifyDayAsync();
        Assert.Equal([(AuditFindingKind.Deleted, deleted.Id)], Tampering(report));
        Assert.Equal("record_missing", report.Findings[0].Code);

        var registration = await verification.VerifyRegistrationAsync("reg-b", null, CancellationToken.None);
        var finding = Assert.Single(registration.Findings, f => f.IsTampering);
        Assert.Equal(AuditFindingKind.Deleted, finding.Kind);
        Assert.True(finding.RecordId == deleted.Id || finding.Sequence == 4, $"{finding}");
    }

    [Fact]
    public async Task A_forged_record_with_a_correct_hash_and_link_is_named_as_inserted()
    {
        var records = await WriteTrailAsync();
        var forged = await ForgeAsync(records);

        var report = await VerifyDayAsync();
        Assert.Equal([(AuditFindingKind.Inserted, forged.Id)], Tampering(report));
        Assert.Equal([(AuditFindingKind.Inserted, forged.Id)], Tampering(await verification.VerifyRegistrationAsync("reg-a", null, CancellationToken.None)));
    }

    [Fact]
    public async Task Two_swapped_records_are_named_as_reordered_with_each_other()
    {
        var records = await WriteTrailAsync();
        var first = Of(records, "reg-b", 2);
        var second = Of(records, "reg-b", 3);
        await SwapAsync(first, second);

        var report = await VerifyDayAsync();
        Assert.Equal([(AuditFindingKind.Reordered, first.Id), (AuditFindingKind.Reordered, second.Id)], Tampering(report).OrderBy(f => f.RecordId == first.Id ? 0 : 1));
        Assert.Equal(second.Id, report.Findings.Single(f => f.RecordId == first.Id).OtherRecordId);

        // Request records (no sequence) swapped in time too.
        var third = records.Single(r => r.Id == "au-request-1");
        var fourth = records.Single(r => r.Id == "au-request-5");
        await SwapAsync(third, fourth);
        Assert.Equal(4, Tampering(await VerifyDayAsync()).Count(f => f.Kind == AuditFindingKind.Reordered));
    }

    [Fact]
    public async Task Edit_delete_insert_and_swap_together_are_each_named_exactly()
    {
        var records = await WriteTrailAsync();
        var edited = records.Single(r => r.Id == "au-request-3");
        var deleted = Of(records, "reg-a", 2);
        var swapped = (Of(records, "reg-b", 5), Of(records, "reg-b", 6));
        await EditAsync(edited, d => d["userId"] = "someone-else");
        await DeleteAsync(deleted);
        var forged = await ForgeAsync(records);
        await SwapAsync(swapped.Item1, swapped.Item2);

        var report = await VerifyDayAsync();
        List<(AuditFindingKind, string?)> expected =
        [
            (AuditFindingKind.Edited, edited.Id),
            (AuditFindingKind.Deleted, deleted.Id),
            (AuditFindingKind.Inserted, forged.Id),
            (AuditFindingKind.Reordered, swapped.Item1.Id),
            (AuditFindingKind.Reordered, swapped.Item2.Id),
        ];
        Assert.Equal(expected.OrderBy(f => f.Item1).ThenBy(f => f.Item2, StringComparer.Ordinal), Tampering(report));
    }

    [Fact]
    public async Task A_replayed_write_writes_nothing()
    {
        var records = await WriteTrailAsync();
        var before = await CountDocumentsAsync();
        var head = await verification.HeadAsync(CancellationToken.None);

        // The orchestration's activity run again (even with a changed detail) and an API record written twice.
        await trail.WriteAsync(Step("reg-a", 4, start.AddSeconds(40)) with { Detail = "rewritten" }, CancellationToken.None);
        await trail.WriteAsync(Step("reg-b", 6, start.AddSeconds(63)), CancellationToken.None);
        await trail.AppendAsync(Request("au-request-2", start.AddSeconds(26), "reg-a"), CancellationToken.None);

        Assert.Equal(before, await CountDocumentsAsync());
        Assert.Equal(head, await verification.HeadAsync(CancellationToken.None));
        Assert.Equal(Of(records, "reg-a", 4).Hash, (await trail.ReadRecordAsync(Of(records, "reg-a", 4).Id, Of(records, "reg-a", 4).PartitionKey, CancellationToken.None)).Hash);
        Assert.Empty((await VerifyDayAsync()).Findings);
    }

    [Fact]
    public async Task A_crash_between_the_record_and_its_seal_heals_when_the_activity_runs_again()
    {
        // The record is in the container, the chain never heard of it (the process died in between).
        var activity = Step("reg-c", 1, start.AddMinutes(5));
        var record = OrchestrationAuditMapper.Map(activity, "test");
        record = record with { Hash = AuditCanonicalForm.HashOf(record) };
        var node = JsonSerializer.SerializeToNode(record, Web)!.AsObject();
        node["sortKey"] = AuditDocument.SortKey(record);
        using (var body = new MemoryStream(Encoding.UTF8.GetBytes(node.ToJsonString())))
        using (await container.CreateItemStreamAsync(body, new PartitionKey(record.PartitionKey)))
        {
        }

        Assert.Equal([(AuditFindingKind.Inserted, record.Id)], Tampering(await VerifyDayAsync()));

        await trail.WriteAsync(activity, CancellationToken.None);
        await trail.WriteAsync(activity, CancellationToken.None);
        var report = await VerifyDayAsync();
        Assert.Empty(report.Findings);
        Assert.Equal(1, report.RecordsSealed);
    }

    [Fact]
    public async Task Legacy_records_without_a_hash_are_reported_as_legacy_not_as_tampering()
    {
        var legacy = Request("au-legacy", start.AddMinutes(1));
        var node = JsonSerializer.SerializeToNode(legacy, Web)!.AsObject();
        node.Remove("hash");
        node.Remove("previousHash");
        node["sortKey"] = AuditDocument.SortKey(legacy);
        using (var body = new MemoryStream(Encoding.UTF8.GetBytes(node.ToJsonString())))
        using (await container.CreateItemStreamAsync(body, new PartitionKey(legacy.PartitionKey)))
        {
        }

        await trail.AppendAsync(Request("au-new", start.AddMinutes(2)), CancellationToken.None);
        await trail.AppendAsync(legacy, CancellationToken.None); // a replay of the old record leaves it as it was

        var report = await VerifyDayAsync();
        Assert.True(report.Intact);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((AuditFindingKind.Legacy, "au-legacy"), (finding.Kind, finding.RecordId));
        Assert.Equal(2, (await trail.QueryAllAsync(new AuditQuery(), CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_thousand_concurrent_audited_actions_from_two_writers_leave_one_chain_without_gap_or_fork()
    {
        // Two trail instances over one container stand for two app instances, each with its own sealer.
        var other = new CosmosAuditTrail(container, "test-2");
        var writers = new[] { trail, other };
        var now = DateTimeOffset.UtcNow.AddMinutes(-30);
        var actions = new List<Func<Task>>();
        for (var r = 0; r < 20; r++)
        {
            var registration = $"reg-load-{r}";
            var first = r % 2;
            actions.Add(async () =>
            {
                // As the orchestration commits: one step after the other, a step's records in parallel, each step on
                // either instance (an activity lands on any).
                for (var s = 1; s <= 20; s += 2)
                {
                    var writer = writers[(first + (s / 2)) % 3 == 0 ? 1 - first : first];
                    var step = s;
                    await Task.WhenAll(
                        writer.WriteAsync(Step(registration, step, now.AddMilliseconds((step * 100) + r)), CancellationToken.None),
                        writer.WriteAsync(Step(registration, step + 1, now.AddMilliseconds((step * 100) + r)), CancellationToken.None));
                }
            });
        }

        for (var i = 0; i < 600; i++)
        {
            var (index, writer) = (i, writers[i % 2]);
            actions.Add(() => writer.AppendAsync(Request($"au-load-{index}", now.AddMilliseconds(index * 3), index % 3 == 0 ? $"reg-load-{index % 20}" : null), CancellationToken.None));
        }

        var clock = Stopwatch.StartNew();
        var random = new Random(18);
        await Task.WhenAll(actions.OrderBy(_ => random.Next()).Select(a => Task.Run(a)));
        output.WriteLine($"1000 audited actions written and sealed in {clock.Elapsed.TotalSeconds:F1} s");

        var head = await trail.Chain.ReadHeadAsync(CancellationToken.None);
        Assert.NotNull(head);
        var blocks = new List<AuditChainBlock>();
        for (var position = 1L; position <= head.Position; position++)
        {
            blocks.Add(await trail.Chain.ReadBlockAsync(position, CancellationToken.None) ?? throw new Xunit.Sdk.XunitException($"block {position} missing"));
        }

        Assert.Null(await trail.Chain.ReadBlockAsync(head.Position + 1, CancellationToken.None));
        Assert.All(blocks.Skip(1).Zip(blocks), pair => Assert.Equal(pair.Second.Hash, pair.First.PreviousHash));
        Assert.All(blocks, b => Assert.Equal(AuditCanonicalForm.HashOf(b), b.Hash));
        var sealedIds = blocks.SelectMany(b => b.Entries).Select(e => e.RecordId).ToList();
        Assert.Equal(1000, sealedIds.Count);
        Assert.Equal(1000, sealedIds.Distinct().Count());
        output.WriteLine($"{blocks.Count} blocks");

        var records = await trail.QueryAllAsync(new AuditQuery(), CancellationToken.None);
        Assert.Equal(1000, records.Count);
        foreach (var registration in records.Where(r => r.Sequence is not null).GroupBy(r => r.RegistrationId))
        {
            var ordered = registration.OrderBy(r => r.Sequence).ToList();
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long?)i), ordered.Select(r => r.Sequence));
            Assert.All(ordered.Skip(1).Zip(ordered), pair => Assert.Equal(pair.Second.Hash, pair.First.PreviousHash));
        }

        var report = await verification.VerifyRangeAsync(now.AddMinutes(-1), now.AddMinutes(1), null, CancellationToken.None);
        Assert.True(report.Intact, string.Join("; ", report.Findings.Take(5)));
        Assert.Empty(report.Findings);
        Assert.Equal(1000, report.RecordsSealed);
        output.WriteLine($"verified in {clock.Elapsed.TotalSeconds:F1} s (total)");
    }

    [Fact]
    public async Task A_rewrite_of_the_whole_chain_passes_the_hashes_but_not_a_signed_anchor()
    {
        var records = await WriteTrailAsync();
        var keyPath = Path.Combine(Path.GetTempPath(), $"anchor-{Guid.NewGuid():n}.pem");
        try
        {
            using var signer = LocalPemAnchorSigner.LoadOrCreate(keyPath);
            var anchor = await AuditAnchorIssuer.IssueAsync(trail.Chain, signer, TimeProvider.System, CancellationToken.None);
            Assert.NotNull(anchor);
            var publicKey = await signer.PublicKeyAsync(CancellationToken.None);
            Assert.True(AuditAnchors.IsSignedBy(anchor, publicKey));
            Assert.False(AuditAnchors.IsSignedBy(anchor with { Head = anchor.Head with { Hash = new string('0', 64) } }, publicKey));
            using (var reloaded = LocalPemAnchorSigner.LoadOrCreate(keyPath))
            {
                Assert.Equal(signer.KeyId, reloaded.KeyId);
            }

            // Someone with full database rights edits a record and recomputes everything after it: record hash, the
            // registration links that follow, and every block from the first.
            var edited = Of(records, "reg-a", 2);
            var rewritten = new Dictionary<string, AuditRecord>(StringComparer.Ordinal);
            var changed = edited with { OutcomeDescription = "nothing found", Hash = null };
            rewritten[edited.Id] = changed with { Hash = AuditCanonicalForm.HashOf(changed) };
            for (var sequence = 3; sequence <= 6; sequence++)
            {
                var next = Of(records, "reg-a", sequence) with { PreviousHash = rewritten[Of(records, "reg-a", sequence - 1).Id].Hash, Hash = null };
                rewritten[next.Id] = next with { Hash = AuditCanonicalForm.HashOf(next) };
            }

            foreach (var record in rewritten.Values)
            {
                await EditAsync(record, d =>
                {
                    d["outcomeDescription"] = record.OutcomeDescription;
                    d["previousHash"] = record.PreviousHash;
                    d["hash"] = record.Hash;
                });
            }

            var head = await trail.Chain.ReadHeadAsync(CancellationToken.None);
            string? previousHash = null;
            for (var position = 1L; position <= head!.Position; position++)
            {
                var block = (await trail.Chain.ReadBlockAsync(position, CancellationToken.None))!;
                var entries = block.Entries.Select(e => rewritten.TryGetValue(e.RecordId, out var r) ? e with { Hash = r.Hash! } : e).ToList();
                var forgedBlock = AuditChainBlock.Create(position, previousHash, block.SealedAt, entries);
                previousHash = forgedBlock.Hash;
                await EditBlockAsync(forgedBlock);
            }

            // The hashes alone cannot tell; the anchor signed before the rewrite can.
            Assert.Empty((await VerifyDayAsync()).Findings);
            var report = await verification.VerifyRangeAsync(start.AddHours(-1), start.AddHours(1), anchor.Head, CancellationToken.None);
            Assert.False(report.Intact);
            var finding = Assert.Single(report.Findings);
            Assert.Equal((AuditFindingKind.ChainBroken, "anchor_mismatch", anchor.Head.Position), (finding.Kind, finding.Code, finding.BlockPosition));

            // Truncating the chain below the anchor is named too.
            using (await container.DeleteItemStreamAsync(CosmosAuditChain.BlockId(head.Position), new PartitionKey(CosmosAuditChain.BlockPartition)))
            {
            }

            var truncated = await verification.VerifyRangeAsync(start.AddHours(-1), start.AddHours(1), anchor.Head, CancellationToken.None);
            Assert.Contains(truncated.Findings, f => f is { Kind: AuditFindingKind.ChainBroken, Code: "chain_shorter_than_anchor" });
        }
        finally
        {
            File.Delete(keyPath);
        }
    }

    private static WriteAuditActivity StreamStep(string registrationId, string? stream, long sequence, DateTimeOffset recordedAt) =>
        Step(registrationId, sequence, recordedAt) with { CommandId = $"{registrationId}/{stream ?? "own"}/step/{sequence}", Stream = stream };

    [Fact]
    public async Task Streams_written_concurrently_each_link_to_their_own_predecessor_and_verify_intact()
    {
        // The registration's orchestration and two studies' transfer sub-orchestrations, all at once; each step's two
        // records in parallel, steps alternating between two instances (so a predecessor is often found by query).
        var other = new CosmosAuditTrail(container, "test-2");
        var writers = new[] { trail, other };
        string?[] streams = [null, "reg-s:transfer:1.2.3:t1", "reg-s:transfer:1.2.4:t1"];
        await Task.WhenAll(streams.Select((stream, s) => Task.Run(async () =>
        {
            for (var sequence = 1; sequence <= 8; sequence += 2)
            {
                var writer = writers[((sequence / 2) + s) % 2];
                var at = start.AddSeconds(sequence).AddMilliseconds(s);
                await Task.WhenAll(
                    writer.WriteAsync(StreamStep("reg-s", stream, sequence, at), CancellationToken.None),
                    writer.WriteAsync(StreamStep("reg-s", stream, sequence + 1, at), CancellationToken.None));
            }
        })));

        var records = await trail.QueryAllAsync(new AuditQuery(RegistrationId: "reg-s"), CancellationToken.None);
        Assert.Equal(24, records.Count);
        foreach (var stream in streams)
        {
            var ordered = records.Where(r => r.Stream == stream).OrderBy(r => r.Sequence).ToList();
            Assert.Equal(Enumerable.Range(1, 8).Select(i => (long?)i), ordered.Select(r => r.Sequence));
            Assert.Null(ordered[0].PreviousHash);
            Assert.All(ordered.Skip(1).Zip(ordered), pair => Assert.Equal(pair.Second.Hash, pair.First.PreviousHash));
        }

        // The stream filter: one transfer's trail alone, and place 3 of the registration's own trail.
        Assert.Equal(8, (await trail.QueryAllAsync(new AuditQuery(RegistrationId: "reg-s", Stream: streams[1]), CancellationToken.None)).Count);
        var own = Assert.Single((await trail.QueryAsync(new AuditQuery(RegistrationId: "reg-s", Sequence: 3), CancellationToken.None)).Records);
        Assert.Equal((null, 3L), (own.Stream, own.Sequence!.Value));

        Assert.Empty(Tampering(await VerifyDayAsync()));
        var registration = await verification.VerifyRegistrationAsync("reg-s", null, CancellationToken.None);
        Assert.True(registration.Intact);
        Assert.Empty(registration.Findings);
    }

    [Fact]
    public async Task A_predecessor_stored_before_streams_existed_is_found_for_the_registrations_own_trail_only()
    {
        // Record 1 of the registration's own trail as documents were stored before the field existed: no "stream" at all.
        var first = OrchestrationAuditMapper.Map(StreamStep("reg-old", null, 1, start.AddMinutes(3)), "test");
        first = first with { Hash = AuditCanonicalForm.HashOf(first) };
        var node = JsonSerializer.SerializeToNode(first, Web)!.AsObject();
        node.Remove("stream");
        node["sortKey"] = AuditDocument.SortKey(first);
        using (var body = new MemoryStream(Encoding.UTF8.GetBytes(node.ToJsonString())))
        using (var created = await container.CreateItemStreamAsync(body, new PartitionKey(first.PartitionKey)))
        {
            Assert.True(created.IsSuccessStatusCode, created.StatusCode.ToString());
        }

        await trail.Chain.SealAsync(new AuditChainEntry(first.Id, first.PartitionKey, first.Hash!), true, CancellationToken.None);

        // A transfer's record 1 starts its own chain; the own trail's record 2, written by an instance that never saw
        // record 1, finds it by query.
        await trail.WriteAsync(StreamStep("reg-old", "reg-old:transfer:1.2.3:t1", 1, start.AddMinutes(4)), CancellationToken.None);
        await new CosmosAuditTrail(container, "test-2").WriteAsync(StreamStep("reg-old", null, 2, start.AddMinutes(5)), CancellationToken.None);

        var records = await trail.QueryAllAsync(new AuditQuery(RegistrationId: "reg-old"), CancellationToken.None);
        Assert.Null(records.Single(r => r.Stream is not null).PreviousHash);
        Assert.Equal(first.Hash, records.Single(r => r is { Stream: null, Sequence: 2 }).PreviousHash);
        Assert.Empty(Tampering(await verification.VerifyRegistrationAsync("reg-old", null, CancellationToken.None)));
    }

    private async Task EditBlockAsync(AuditChainBlock block)
    {
        var id = CosmosAuditChain.BlockId(block.Position);
        var response = await container.ReadItemStreamAsync(id, new PartitionKey(CosmosAuditChain.BlockPartition));
        var document = JsonNode.Parse(response.Content)!.AsObject();
        document["previousHash"] = block.PreviousHash;
        document["entries"] = JsonSerializer.SerializeToNode(block.Entries, Web);
        document["hash"] = block.Hash;
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(document.ToJsonString()));
        using var replaced = await container.ReplaceItemStreamAsync(body, id, new PartitionKey(CosmosAuditChain.BlockPartition));
        Assert.True(replaced.IsSuccessStatusCode, replaced.StatusCode.ToString());
    }

    private async Task<int> CountDocumentsAsync()
    {
        using var iterator = container.GetItemQueryIterator<int>("SELECT VALUE COUNT(1) FROM c");
        var count = 0;
        while (iterator.HasMoreResults)
        {
            count += (await iterator.ReadNextAsync()).Sum();
        }

        return count;
    }
}
