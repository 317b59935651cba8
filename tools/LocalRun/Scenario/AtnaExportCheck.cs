using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessImaging.LocalRun.Scenario;

/// <summary>
/// Self-check of the audit trail's export: every audit record of the run (listed through the auditors' API) reached the
/// stack's ATNA collector over TLS, each once. Messages are matched by the record id each carries as structured data
/// (<c>[auditRecord@32473 id="…"]</c>) in the collector's file, one message per line.
/// </summary>
internal static partial class AtnaExportCheck
{
    // The app's export loop looks every 2 s; a batch backs off after a failure.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>How many records were checked; throws <see cref="LocalRunException"/> naming what is missing or doubled.</summary>
    public static async Task<int> VerifyAsync(ApiSession api, AtnaCollector atna, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var ids = await RunRecordIdsAsync(api, startedAt, cancellationToken);
        if (ids.Count == 0)
        {
            throw new LocalRunException("self-check: the run wrote no audit record");
        }

        var watch = Stopwatch.StartNew();
        while (true)
        {
            var counts = Received(atna.ReceivedPath);
            var missing = ids.Count(id => !counts.ContainsKey(id));
            if (missing == 0)
            {
                // A moment more, so a late duplicate would show.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                counts = Received(atna.ReceivedPath);
                var doubled = ids.Where(id => counts.GetValueOrDefault(id) > 1).ToList();
                if (doubled.Count > 0)
                {
                    throw new LocalRunException($"self-check: {doubled.Count} audit record(s) reached the ATNA collector more than once (e.g. {doubled[0]})");
                }

                return ids.Count;
            }

            if (watch.Elapsed > Deadline)
            {
                throw new LocalRunException($"self-check: {missing} of {ids.Count} audit record(s) of the run did not reach the ATNA collector within {Deadline.TotalSeconds:0} s (app log: ATNA export)");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static async Task<HashSet<string>> RunRecordIdsAsync(ApiSession api, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        string? continuation = null;
        do
        {
            var path = "/audit?pageSize=500&from=" + Uri.EscapeDataString(startedAt.AddSeconds(-5).ToString("O", CultureInfo.InvariantCulture))
                + (continuation is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(continuation));
            var page = await api.SendAsync(HttpMethod.Get, path, "auditor", null, HttpStatusCode.OK, cancellationToken);
            foreach (var record in page.GetProperty("records").EnumerateArray())
            {
                ids.Add(record.GetProperty("id").GetString()!);
            }

            continuation = page.TryGetProperty("continuationToken", out var c) ? c.GetString() : null;
        }
        while (continuation is not null);
        return ids;
    }

    private static Dictionary<string, int> Received(string path)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return counts;
        }

        // rsyslog keeps the file open for writing: share it.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        while (reader.ReadLine() is { } line)
        {
            if (RecordId().Match(line) is { Success: true } match)
            {
                counts[match.Groups[1].Value] = counts.GetValueOrDefault(match.Groups[1].Value) + 1;
            }
        }

        return counts;
    }

    [GeneratedRegex("""\[auditRecord@32473 id="([^"]+)"\]""")]
    private static partial Regex RecordId();
}
