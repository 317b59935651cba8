using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Audit;

/// <summary>
/// The audit trail in the Cosmos DB container <c>audit</c>, partitioned by the UTC day a record was recorded
/// (<c>/partitionKey</c> = yyyy-MM-dd): writes spread over days, and the auditors' usual question ("what happened between these
/// dates") reads only those days' partitions. Filters by patient, user, site or registration are equality
/// predicates on top-level fields (range-indexed by default). Only creates documents: there is no code path
/// that replaces or deletes one, and a record written again (an activity run again) is a create conflict, i.e. the
/// first write stands. Records come back in recorded order (<see cref="AuditDocument.SortKey"/>). Uses the stream API with System.Text.Json so the record's JSON shape does
/// not depend on how the shared CosmosClient's serializer is configured.
/// </summary>
public sealed class CosmosAuditTrail : IAuditTrail, IAuditSink
{
    // Beyond this many days, the partition list stops paying for itself: query across partitions.
    private const int MaxDaysForPartitionList = 62;

    // How long a registration's record waits for its predecessor in its trail (written by the same step in parallel, or
    // by the previous step) before the write fails and the activity is retried.
    private static readonly TimeSpan PredecessorWait = TimeSpan.FromSeconds(30);

    private readonly Container container;
    private readonly string auditSource;
    private readonly RegistrationLinks links = new();

    /// <summary>Creates the trail over <paramref name="container"/>; <paramref name="auditSource"/> names this app instance.</summary>
    public CosmosAuditTrail(Container container, string auditSource, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentException.ThrowIfNullOrWhiteSpace(auditSource);
        this.container = container;
        this.auditSource = auditSource;
        Chain = new CosmosAuditChain(container, time);
    }

    /// <summary>The global chain the trail seals every record into.</summary>
    public CosmosAuditChain Chain { get; }

    /// <inheritdoc />
    public Task WriteAsync(WriteAuditActivity record, CancellationToken cancellationToken) =>
        AppendAsync(OrchestrationAuditMapper.Map(record, auditSource), cancellationToken);

    /// <summary>
    /// Links a registration's numbered record to its predecessor in the same trail (<see cref="AuditRecord.Stream"/>),
    /// hashes it, creates it (a second write of the same id is a conflict: the first stands) and seals it into the global
    /// chain. A replay finds the record and its seal and writes nothing; a replay after a crash between the create and the
    /// seal only seals.
    /// </summary>
    public async Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var writing = links.Writing(record);
        var previousHash = record is { RegistrationId: { } registrationId, Sequence: > 1 and var sequence }
            ? await PreviousHashAsync(registrationId, record.Stream, sequence, cancellationToken).ConfigureAwait(false)
            : null;
        var linked = record with { PreviousHash = previousHash, Hash = null };
        linked = linked with { Hash = AuditCanonicalForm.HashOf(linked) };

        var document = AuditDocument.ToJson(linked);
        AuditRecord stored;
        bool justCreated;
        using (var body = new MemoryStream(Encoding.UTF8.GetBytes(document)))
        using (var response = await container.CreateItemStreamAsync(body, new PartitionKey(linked.PartitionKey), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            justCreated = response.StatusCode != HttpStatusCode.Conflict;
            if (justCreated && !response.IsSuccessStatusCode)
            {
                throw new CosmosException($"Writing an audit record failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);
            }
        }

        // Same deterministic id: this fact is already recorded, and what counts is what was stored first.
        stored = justCreated ? linked : await ReadRecordAsync(linked.Id, linked.PartitionKey, cancellationToken).ConfigureAwait(false);
        links.Remember(stored);
        if (stored.Hash is null)
        {
            return; // Written before the trail was sealed: it stays legacy.
        }

        await Chain.SealAsync(new AuditChainEntry(stored.Id, stored.PartitionKey, stored.Hash), justCreated, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One record by id and partition.</summary>
    public async Task<AuditRecord> ReadRecordAsync(string id, string partitionKey, CancellationToken cancellationToken) =>
        await TryReadRecordAsync(id, partitionKey, cancellationToken).ConfigureAwait(false)
        ?? throw new CosmosStoreException("An audit record is missing.", HttpStatusCode.NotFound);

    /// <summary>One record by id and partition, or null.</summary>
    public async Task<AuditRecord?> TryReadRecordAsync(string id, string partitionKey, CancellationToken cancellationToken)
    {
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(partitionKey), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "reading an audit record");
        using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
        return AuditDocument.FromJson(json.RootElement);
    }

    /// <summary>Every record matching <paramref name="query"/>'s filters (paging ignored), in recorded order.</summary>
    public async Task<IReadOnlyList<AuditRecord>> QueryAllAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var all = new List<AuditRecord>();
        string? token = null;
        do
        {
            var page = await QueryAsync(query with { PageSize = AuditQuery.MaxPageSize, ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Records);
            token = page.ContinuationToken;
        }
        while (token is not null);
        return all;
    }

    private async Task<string> PreviousHashAsync(string registrationId, string? stream, long sequence, CancellationToken cancellationToken)
    {
        var waiter = links.Waiter(registrationId, stream, sequence - 1);
        var deadline = DateTime.UtcNow + PredecessorWait;
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            if (waiter.IsCompletedSuccessfully)
            {
                return await waiter.ConfigureAwait(false);
            }

            // The predecessor is being written by this process (a step's records are written together): its hash comes
            // with it, and a query now would only find it missing.
            if (links.IsBeingWritten(registrationId, stream, sequence - 1))
            {
                using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    await Task.WhenAny(waiter, Task.Delay(PredecessorWait, waiting.Token)).ConfigureAwait(false);
                    await waiting.CancelAsync().ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }

            var page = await QueryAsync(new AuditQuery(RegistrationId: registrationId, PageSize: 2, Sequence: sequence - 1, Stream: stream), cancellationToken).ConfigureAwait(false);
            if (page.Records.Count > 0)
            {
                links.Remember(page.Records[0]);
                return await waiter.ConfigureAwait(false);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new CosmosStoreException($"Audit record {sequence.ToString(CultureInfo.InvariantCulture)} of a registration's {(stream is null ? "own trail" : "sub-orchestration trail")} waits for its predecessor, not written yet.", HttpStatusCode.ServiceUnavailable);
            }

            await Task.WhenAny(waiter, Task.Delay(delay, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(400).Ticks));
        }
    }

    /// <inheritdoc />
    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, AuditQuery.MaxPageSize);
        var after = query.ContinuationToken is null ? null : DecodeToken(query.ContinuationToken);

        var where = new List<string>();
        var parameters = new List<(string Name, object Value)>();
        void Equal(string field, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                where.Add($"c.{field} = @{field}");
                parameters.Add(("@" + field, value));
            }
        }

        Equal("patientKey", query.PatientKey);
        Equal("userId", query.UserId);
        Equal("siteId", query.SiteId);
        Equal("registrationId", query.RegistrationId);
        if (query.Sequence is { } wantedSequence)
        {
            where.Add("c.sequence = @sequence");
            parameters.Add(("@sequence", wantedSequence));
        }

        if (query.Stream is { } wantedStream)
        {
            where.Add("c.stream = @stream");
            parameters.Add(("@stream", wantedStream));
        }
        else if (query.Sequence is not null)
        {
            // A sequence number alone names a place in each trail: this one is in the registration's own, whose
            // documents have no stream (written before streams existed) or a null one.
            where.Add("(NOT IS_DEFINED(c.stream) OR IS_NULL(c.stream))");
        }

        // The chain's blocks and seal index share the container: records are the documents with a sort key.
        where.Add("IS_DEFINED(c.sortKey)");
        if (query.From is { } from)
        {
            where.Add("c.sortKey >= @fromKey");
            parameters.Add(("@fromKey", AuditDocument.TimeKey(from)));
        }

        if (query.To is { } to)
        {
            // Every sort key of a record recorded at 'to' starts with this prefix, so "<= prefix + max" keeps them.
            where.Add("c.sortKey <= @toKey");
            parameters.Add(("@toKey", AuditDocument.TimeKey(to) + "~"));
        }

        if (query.From is { } f && query.To is { } t && t >= f && (t.UtcDateTime.Date - f.UtcDateTime.Date).TotalDays < MaxDaysForPartitionList)
        {
            var days = new List<string>();
            for (var day = f.UtcDateTime.Date; day <= t.UtcDateTime.Date; day = day.AddDays(1))
            {
                var name = "@day" + days.Count.ToString(CultureInfo.InvariantCulture);
                days.Add(name);
                parameters.Add((name, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            }

            where.Add($"c.partitionKey IN ({string.Join(", ", days)})");
        }

        if (after is not null)
        {
            where.Add("c.sortKey > @after");
            parameters.Add(("@after", after));
        }

        // One more than the page tells whether a next page exists without a second round trip.
        var text = $"SELECT TOP {pageSize + 1} * FROM c{(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty)} ORDER BY c.sortKey ASC";
        var definition = new QueryDefinition(text);
        foreach (var (name, value) in parameters)
        {
            definition = definition.WithParameter(name, value);
        }

        var records = new List<AuditRecord>(pageSize + 1);
        using var iterator = container.GetItemQueryStreamIterator(definition, requestOptions: new QueryRequestOptions { MaxItemCount = pageSize + 1 });
        while (iterator.HasMoreResults && records.Count <= pageSize)
        {
            using var response = await iterator.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new CosmosException($"Querying the audit trail failed ({(int)response.StatusCode}/{response.Headers["x-ms-substatus"]})", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);
            }

            using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var document in json.RootElement.GetProperty("Documents").EnumerateArray())
            {
                records.Add(AuditDocument.FromJson(document));
            }
        }

        if (records.Count <= pageSize)
        {
            return new AuditPage(records, null);
        }

        records.RemoveRange(pageSize, records.Count - pageSize);
        return new AuditPage(records, EncodeToken(AuditDocument.SortKey(records[^1])));
    }

    // v3: the sort key's time is in ticks (v2 tokens, in milliseconds, are refused as not issued by this version).
    private const string TokenPrefix = "v3.";

    private static string EncodeToken(string sortKey) => TokenPrefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(sortKey)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string DecodeToken(string token)
    {
        try
        {
            if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length > 200)
            {
                throw new InvalidContinuationTokenException();
            }

            var base64 = token[TokenPrefix.Length..].Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var key = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            const int timeLength = AuditDocument.TimeKeyLength;
            if (key.Length < timeLength + 2 || key.AsSpan(0, timeLength).ContainsAnyExceptInRange('0', '9') || key[timeLength] != '|')
            {
                throw new InvalidContinuationTokenException();
            }

            return key;
        }
        catch (FormatException ex)
        {
            throw new InvalidContinuationTokenException("The continuation token is not one this service issued.", ex);
        }
    }
}

/// <summary>
/// The stored JSON shape of an <see cref="AuditRecord"/>: camelCase plus the <c>sortKey</c> used for ordering and paging.
/// <c>stream</c> is null for a registration's own trail, and absent from documents written before streams existed.
/// </summary>
internal static class AuditDocument
{
    internal static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Recorded-at in UTC ticks (100 ns, the precision the record keeps), the registration sequence (zero for API
    /// records), the id, all zero-padded and '|'-separated: unique, and ordered by recorded-at then sequence, so each
    /// trail of a registration (whose recorded-at never goes back) comes in sequence order even at equal times, an API
    /// record written a few microseconds after an orchestration record comes after it, and keyset paging never skips ties.
    /// </summary>
    public static string SortKey(AuditRecord record) =>
        TimeKey(record.RecordedAt)
        + "|" + (record.Sequence ?? 0).ToString("D19", CultureInfo.InvariantCulture)
        + "|" + record.Id;

    /// <summary>The leading part of the sort keys of records recorded at <paramref name="at"/>.</summary>
    public static string TimeKey(DateTimeOffset at) => at.UtcTicks.ToString("D" + TimeKeyLength, CultureInfo.InvariantCulture);

    public const int TimeKeyLength = 19;

    public static string ToJson(AuditRecord record)
    {
        var node = JsonSerializer.SerializeToNode(record, Options)!.AsObject();
        node["sortKey"] = SortKey(record);
        return node.ToJsonString(Options);
    }

    public static AuditRecord FromJson(JsonElement element) =>
        element.Deserialize<AuditRecord>(Options) ?? throw new JsonException("An audit document is empty.");
}

/// <summary>
/// The hashes of registration records this process wrote or read lately, by (registration, stream, sequence), so a
/// record written in parallel with its predecessor (one step's records) waits for it without polling the database.
/// </summary>
internal sealed class RegistrationLinks
{
    private const int MaxEntries = 50_000;
    private readonly ConcurrentDictionary<(string RegistrationId, string? Stream, long Sequence), TaskCompletionSource<string>> hashes = new();

    private readonly ConcurrentDictionary<(string RegistrationId, string? Stream, long Sequence), int> writing = new();

    public Task<string> Waiter(string registrationId, string? stream, long sequence) => Slot(registrationId, stream, sequence).Task;

    /// <summary>Marks a numbered record as being written by this process until disposed.</summary>
    public IDisposable? Writing(AuditRecord record)
    {
        if (record is not { RegistrationId: { } registrationId, Sequence: > 0 and var sequence })
        {
            return null;
        }

        var key = (registrationId, record.Stream, sequence);
        writing.AddOrUpdate(key, 1, (_, count) => count + 1);
        return new WritingMark(this, key);
    }

    public bool IsBeingWritten(string registrationId, string? stream, long sequence) => writing.ContainsKey((registrationId, stream, sequence));

    private void Done((string, string?, long) key)
    {
        if (writing.AddOrUpdate(key, 0, (_, count) => count - 1) <= 0)
        {
            writing.TryRemove(new KeyValuePair<(string, string?, long), int>(key, 0));
        }
    }

    private sealed class WritingMark(RegistrationLinks links, (string, string?, long) key) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                links.Done(key);
            }
        }
    }

    public void Remember(AuditRecord record)
    {
        if (record is { RegistrationId: { } registrationId, Sequence: > 0 and var sequence })
        {
            // Legacy records carry no hash: their successor links to the hash of their canonical form.
            Slot(registrationId, record.Stream, sequence).TrySetResult(record.Hash ?? AuditCanonicalForm.HashOf(record));
        }
    }

    private TaskCompletionSource<string> Slot(string registrationId, string? stream, long sequence)
    {
        if (hashes.Count > MaxEntries)
        {
            foreach (var done in hashes.Where(h => h.Value.Task.IsCompleted).Select(h => h.Key).ToList())
            {
                hashes.TryRemove(done, out _);
            }
        }

        return hashes.GetOrAdd((registrationId, stream, sequence), _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
