using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Adapters.Audit.Syslog;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Atna;

namespace ServerlessImaging.Adapters.Audit.Atna;

/// <summary>How the audit trail is exported to an ATNA collector.</summary>
public sealed record AtnaExportOptions
{
    /// <summary>The collector (a SIEM's audit record repository) and how to trust it.</summary>
    public required SyslogTlsOptions Collector { get; init; }

    /// <summary>HOSTNAME, APP-NAME and PROCID of the syslog messages.</summary>
    public SyslogHeader Header { get; init; } = SyslogHeader.ForThisProcess();

    /// <summary>How the audit messages name their source.</summary>
    public AuditMessageSettings MessageSettings { get; init; } = new();

    /// <summary>About how many records one batch (one connection, one cursor move) carries; whole chain blocks are taken, at least one.</summary>
    public int MaxBatchRecords { get; init; } = 500;

    /// <summary>Longest time one batch may take, connection, sending and the collector's confirming close included.</summary>
    public TimeSpan BatchTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the cursor's lease lasts without renewal (more than two batches, so a batch never outlives it).</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Longest pass (a timer-triggered function must end); the next pass goes on from the cursor.</summary>
    public TimeSpan MaxPassDuration { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>Who holds the lease: this machine and process, unique per exporter.</summary>
    public string Holder { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():n}";
}

/// <summary>How a pass ended.</summary>
public enum AtnaExportOutcome
{
    /// <summary>The chain had nothing past the cursor: nothing was written, not even the lease.</summary>
    Idle,

    /// <summary>Everything sealed when the pass looked was sent and confirmed.</summary>
    CaughtUp,

    /// <summary>Another exporter holds the cursor (or took it during the pass).</summary>
    Busy,

    /// <summary>The pass used its time and stopped with more to send.</summary>
    TimeUp,

    /// <summary>The collector could not be reached, refused us or did not confirm: the cursor stays before the failed batch.</summary>
    Failed,
}

/// <summary>What one pass did.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="RecordsSent">Records in confirmed batches.</param>
/// <param name="Batches">Batches confirmed.</param>
/// <param name="Position">The cursor afterwards, as far as this exporter knows (the last chain block confirmed sent).</param>
public sealed record AtnaExportPass(AtnaExportOutcome Outcome, int RecordsSent, int Batches, long Position);

/// <summary>
/// Sends every audit record, as a PS3.15 audit message over syslog/TLS, to the collector, in the global chain's order
/// (<see cref="CosmosAuditChain"/>: blocks 1, 2, 3… without gap, each record in exactly one block). The position of the
/// last block confirmed sent is a durable cursor (<see cref="AtnaExportCursor"/>), moved only after the collector
/// confirmed the batch by closing its connection (<see cref="SyslogTlsClient.SendConfirmedAsync"/>); a failure leaves it
/// where it was, and the next pass sends the batch again. So nothing is lost, and a record is sent twice only when a
/// batch failed after the collector had taken part of it: each message names its record (SD <c>auditRecord@32473 id</c>)
/// for the collector to drop such a resend. The cursor's lease keeps a second app instance from sending the same batch.
/// Runs off the request path (a hosted loop, a timer function): writing a record never waits for the collector.
/// Logs name positions, counts and error types, never a record's content.
/// </summary>
public sealed partial class AtnaExporter(CosmosAuditTrail trail, AtnaExportCursor cursor, SyslogTlsClient collector, AtnaExportOptions options, ILogger<AtnaExporter> logger, TimeProvider? time = null)
{
    private const int RecordReadConcurrency = 16;
    private readonly TimeProvider time = time ?? TimeProvider.System;

    /// <summary>Sends what the chain holds past the cursor, batch after batch, until caught up, out of time, or failed.</summary>
    public async Task<AtnaExportPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        // Idle passes only read: the cursor, and whether the block after it exists.
        var position = await cursor.ReadPositionAsync(cancellationToken).ConfigureAwait(false);
        if (await trail.Chain.ReadBlockAsync(position + 1, cancellationToken).ConfigureAwait(false) is null)
        {
            return new AtnaExportPass(AtnaExportOutcome.Idle, 0, 0, position);
        }

        var lease = await cursor.TryAcquireAsync(options.Holder, options.LeaseDuration, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return new AtnaExportPass(AtnaExportOutcome.Busy, 0, 0, position);
        }

        var started = time.GetTimestamp();
        var sent = 0;
        var batches = 0;
        var held = true;
        try
        {
            while (true)
            {
                if (time.GetElapsedTime(started) > options.MaxPassDuration)
                {
                    return new AtnaExportPass(AtnaExportOutcome.TimeUp, sent, batches, lease.Position);
                }

                // A batch must end inside the lease: renew it first when less than a batch's time is left.
                if (lease.Until - time.GetUtcNow() < options.BatchTimeout)
                {
                    lease = await cursor.AdvanceAsync(lease, lease.Position, options.LeaseDuration, cancellationToken).ConfigureAwait(false);
                }

                var batch = await ReadBatchAsync(lease.Position, cancellationToken).ConfigureAwait(false);
                if (batch.LastPosition == lease.Position)
                {
                    return new AtnaExportPass(AtnaExportOutcome.CaughtUp, sent, batches, lease.Position);
                }

                if (batch.Messages.Count > 0)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(options.BatchTimeout);
                    try
                    {
                        await collector.SendConfirmedAsync(batch.Messages, timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new TimeoutException("An ATNA export batch took longer than its timeout.");
                    }
                }

                lease = await cursor.AdvanceAsync(lease, batch.LastPosition, options.LeaseDuration, cancellationToken).ConfigureAwait(false);
                sent += batch.Messages.Count;
                batches++;
                LogBatchSent(logger, batch.Messages.Count, batch.LastPosition);
            }
        }
        catch (AtnaExportLeaseLostException)
        {
            held = false;
            LogLeaseLost(logger, lease.Position);
            return new AtnaExportPass(AtnaExportOutcome.Busy, sent, batches, lease.Position);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or SyslogCollectorUntrustedException)
        {
            LogBatchFailed(logger, lease.Position + 1, ex.GetType().Name);
            return new AtnaExportPass(AtnaExportOutcome.Failed, sent, batches, lease.Position);
        }
        finally
        {
            if (held)
            {
                await ReleaseQuietlyAsync(lease).ConfigureAwait(false);
            }
        }
    }

    // Whole blocks after the cursor, up to about MaxBatchRecords records, read in the chain's order.
    private async Task<Batch> ReadBatchAsync(long after, CancellationToken cancellationToken)
    {
        var entries = new List<Orchestration.Audit.Integrity.AuditChainEntry>();
        var last = after;
        while (entries.Count < options.MaxBatchRecords
            && await trail.Chain.ReadBlockAsync(last + 1, cancellationToken).ConfigureAwait(false) is { } block)
        {
            entries.AddRange(block.Entries);
            last = block.Position;
        }

        var records = new AuditRecord?[entries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count), new ParallelOptions { MaxDegreeOfParallelism = RecordReadConcurrency, CancellationToken = cancellationToken }, async (i, token) =>
            records[i] = await trail.TryReadRecordAsync(entries[i].RecordId, entries[i].PartitionKey, token).ConfigureAwait(false)).ConfigureAwait(false);

        var messages = new List<ReadOnlyMemory<byte>>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            if (records[i] is { } record)
            {
                messages.Add(SyslogMessage.ForAuditRecord(record, options.Header, options.MessageSettings));
            }
            else
            {
                // Sealed, then removed behind the app's back: the verifier reports it; the export cannot send what is gone.
                LogRecordMissing(logger, entries[i].RecordId, last);
            }
        }

        return new Batch(messages, last);
    }

    private async Task ReleaseQuietlyAsync(AtnaExportLease lease)
    {
        try
        {
            await cursor.ReleaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The lease runs out by itself; failing to give it up early costs another exporter a wait, nothing more.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogReleaseFailed(logger, ex.GetType().Name);
        }
    }

    private sealed record Batch(List<ReadOnlyMemory<byte>> Messages, long LastPosition);

    [LoggerMessage(Level = LogLevel.Information, Message = "ATNA export: {Count} audit record(s) confirmed by the collector, up to chain block {Position}")]
    private static partial void LogBatchSent(ILogger logger, int count, long position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ATNA export: the batch from chain block {Position} failed ({ErrorType}); the cursor stays, it is sent again next pass")]
    private static partial void LogBatchFailed(ILogger logger, long position, string errorType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ATNA export: another exporter took the cursor at block {Position}; this one stops")]
    private static partial void LogLeaseLost(ILogger logger, long position);

    [LoggerMessage(Level = LogLevel.Error, Message = "ATNA export: audit record {RecordId} sealed in the chain (batch up to block {Position}) is missing from the trail; not sent")]
    private static partial void LogRecordMissing(ILogger logger, string recordId, long position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ATNA export: giving the cursor's lease up failed ({ErrorType}); it runs out by itself")]
    private static partial void LogReleaseFailed(ILogger logger, string errorType);
}
