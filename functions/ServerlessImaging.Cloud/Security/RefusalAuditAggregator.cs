using System.Globalization;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Security;

/// <summary>What makes refusals "the same" for aggregation: who (address, and user for a 403), which route, which status.</summary>
/// <param name="Source">Remote address ("?" when unknown; <see cref="RefusalAuditAggregator.OverflowSource"/> for the overflow bucket).</param>
/// <param name="Route">Method and route template ("GET /registrations/{registrationId}").</param>
/// <param name="Status">401 or 403.</param>
/// <param name="UserId">The token subject of a 403 (null for a 401).</param>
public readonly record struct RefusalKey(string Source, string Route, int Status, string? UserId);

/// <summary>
/// Bounds the Security Alert records of refused requests (401/403). The first refusal of a key opens a window and is
/// recorded at once, as before (refusal-count 1); the following ones of the window are only counted, and when the window
/// has ended one summary record carries how many there were and from when to when. So a flood writes at most two records
/// per key and window, however many requests it sends. Memory is bounded too: past <see cref="MaxTrackedKeys"/> open
/// windows, a new key is counted in one overflow bucket per status (source <see cref="OverflowSource"/>).
/// Pure logic, thread-safe; times are passed in so a caller (or a test) decides what "now" is.
/// </summary>
public sealed class RefusalAuditAggregator
{
    /// <summary>Default window.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);

    /// <summary>Default bound on open windows (a window holds one record, about a kilobyte).</summary>
    public const int DefaultMaxTrackedKeys = 4096;

    /// <summary>Participant object id type carrying how many refusals a record stands for.</summary>
    public const string CountIdType = "refusal-count";

    /// <summary>Source of the overflow bucket.</summary>
    public const string OverflowSource = "*";

    private readonly Lock gate = new();
    private readonly Dictionary<RefusalKey, OpenWindow> windows = [];

    /// <summary>Creates the aggregator.</summary>
    public RefusalAuditAggregator(TimeSpan window, int maxTrackedKeys = DefaultMaxTrackedKeys)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTrackedKeys, 1);
        Window = window;
        MaxTrackedKeys = maxTrackedKeys;
    }

    /// <summary>The aggregation window.</summary>
    public TimeSpan Window { get; }

    /// <summary>Open windows beyond which new keys go to the overflow bucket.</summary>
    public int MaxTrackedKeys { get; }

    /// <summary>How often ended windows should be flushed: a quarter window, between 100 ms and 15 s.</summary>
    public TimeSpan FlushInterval => TimeSpan.FromTicks(Math.Clamp(Window.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(15).Ticks));

    /// <summary>Open windows now (the overflow buckets included).</summary>
    public int OpenWindows
    {
        get
        {
            lock (gate)
            {
                return windows.Count;
            }
        }
    }

    /// <summary>
    /// A refusal at <paramref name="at"/>, whose full record is <paramref name="record"/>. Returns the records to write now:
    /// this refusal's own (with refusal-count 1) when it opens a window, preceded by the summary of the key's previous
    /// window when that one ended unflushed; nothing when the refusal is only counted.
    /// </summary>
    public IReadOnlyList<AuditRecord> Observe(RefusalKey key, AuditRecord record, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(record);
        var toWrite = new List<AuditRecord>(2);
        lock (gate)
        {
            if (!windows.ContainsKey(key) && windows.Count >= MaxTrackedKeys)
            {
                key = new RefusalKey(OverflowSource, OverflowSource, key.Status, null);
            }

            if (windows.TryGetValue(key, out var open))
            {
                if (at < open.Start + Window)
                {
                    open.Count(at);
                    return [];
                }

                windows.Remove(key);
                if (open.Suppressed > 0)
                {
                    toWrite.Add(Summary(key, open, at));
                }
            }

            windows[key] = new OpenWindow(at, record);
        }

        toWrite.Add(record with { ParticipantObjects = [.. record.ParticipantObjects, CountObject(1)] });
        return toWrite;
    }

    /// <summary>Closes the windows ended by <paramref name="now"/>; returns the summaries of those that counted refusals.</summary>
    public IReadOnlyList<AuditRecord> TakeEnded(DateTimeOffset now) => Take(now, all: false);

    /// <summary>Closes every window (shutdown); returns the summaries of those that counted refusals.</summary>
    public IReadOnlyList<AuditRecord> TakeAll(DateTimeOffset now) => Take(now, all: true);

    private List<AuditRecord> Take(DateTimeOffset now, bool all)
    {
        var summaries = new List<AuditRecord>();
        lock (gate)
        {
            foreach (var (key, open) in windows.Where(w => all || now >= w.Value.Start + Window).ToList())
            {
                windows.Remove(key);
                if (open.Suppressed > 0)
                {
                    summaries.Add(Summary(key, open, now));
                }
            }
        }

        return summaries;
    }

    // The window's first record, reduced to what all its refusals share (no registration, key or patient of one request).
    private AuditRecord Summary(RefusalKey key, OpenWindow open, DateTimeOffset now)
    {
        var first = open.First;
        var participants = key.Source == OverflowSource
            ? [new AuditParticipant(OverflowSource, "user", true), .. first.ActiveParticipants.Where(p => p.Kind != "user")]
            : first.ActiveParticipants;
        var route = key.Source == OverflowSource
            ? [new AuditParticipantObject(2, 13, "http-request", "*", $"status {key.Status}")]
            : first.ParticipantObjects.Where(o => o.IdTypeCode == "http-request").ToList();
        var window = Window.ToString("c", CultureInfo.InvariantCulture);
        var who = key.Source == OverflowSource ? "from sources beyond the tracked limit" : "of this source, route and reason";
        return first with
        {
            Id = AuditRecordIds.From("http-refusals", key.Source, key.Route, key.Status.ToString(CultureInfo.InvariantCulture), key.UserId ?? string.Empty, open.Start.UtcTicks.ToString(CultureInfo.InvariantCulture)),
            PartitionKey = AuditRecord.PartitionKeyFor(now),
            DateTime = open.FirstSuppressed,
            RecordedAt = now,
            OutcomeDescription = $"HTTP {key.Status}: {open.Suppressed} more refusal(s) {who} from {open.FirstSuppressed:O} to {open.LastSuppressed:O} (aggregated per {window} window)",
            ActiveParticipants = participants,
            ParticipantObjects = [.. route, CountObject(open.Suppressed)],
            PatientKey = null,
            RegistrationId = null,
            UserId = key.Source == OverflowSource ? null : first.UserId,
        };
    }

    private static AuditParticipantObject CountObject(long count) =>
        new(2, 13, CountIdType, count.ToString(CultureInfo.InvariantCulture), "refused requests this record stands for");

    private sealed class OpenWindow(DateTimeOffset start, AuditRecord first)
    {
        public DateTimeOffset Start { get; } = start;

        public AuditRecord First { get; } = first;

        public long Suppressed { get; private set; }

        public DateTimeOffset FirstSuppressed { get; private set; }

        public DateTimeOffset LastSuppressed { get; private set; }

        public void Count(DateTimeOffset at)
        {
            if (Suppressed == 0)
            {
                FirstSuppressed = at;
            }

            Suppressed++;
            LastSuppressed = at;
        }
    }
}
