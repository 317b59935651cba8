using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Pacs;
using ServerlessImaging.Relay.Spool;
using ServerlessImaging.Relay.Staging;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>A command could not be carried out, for a reason of the contract's closed set.</summary>
public sealed class CommandFailureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommandFailureException(FailureReason reason, string safeMessage, Exception? innerException = null)
        : base(safeMessage, innerException)
    {
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public CommandFailureException()
        : this(FailureReason.Internal, "Command failed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public CommandFailureException(string message)
        : this(FailureReason.Internal, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public CommandFailureException(string message, Exception innerException)
        : this(FailureReason.Internal, message, innerException)
    {
    }

    /// <summary>Why.</summary>
    public FailureReason Reason { get; }
}

/// <summary>Where a retrieval stands, for progress events.</summary>
public sealed record RetrievalStatus(int InstancesDone, int InstancesTotal, long BytesDone);

/// <summary>
/// Carries out a <see cref="RetrieveStudyCommand"/>, resumably: lists the study's instances (image-level C-FIND),
/// takes what the destination's staging journal (<see cref="StagingJournals"/>) records as already staged (never a
/// listing of staging: the credential cannot list), fetches only the series that still miss instances (C-MOVE into the
/// relay's SCP or C-GET), streams each new instance to staging while the transfer runs, recording each one, then reports
/// the whole study's manifest from the journal.
/// </summary>
public sealed class RetrievalRunner
{
    private readonly RelayOptions _options;
    private readonly PacsGateway _pacs;
    private readonly MoveDestination? _moveDestination;
    private readonly SpoolBudget _budget;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<RetrievalRunner> _logger;

    /// <summary>Creates the runner.</summary>
    public RetrievalRunner(RelayOptions options, PacsGateway pacs, SpoolBudget budget, RelayMetrics metrics, TimeProvider time, ILogger<RetrievalRunner> logger, MoveDestination? moveDestination = null)
    {
        _options = options;
        _pacs = pacs;
        _budget = budget;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _moveDestination = moveDestination;
    }

    /// <summary>
    /// Runs the retrieval with the destination's <paramref name="journal"/> (held by the caller, which deletes it once
    /// the completion is reported); <paramref name="status"/> is updated as it goes (read it for progress events) and
    /// <paramref name="staged"/>, when given, hears of each instance as soon as its upload to staging completed.
    /// </summary>
    public async Task<RetrievalCompleted> RunAsync(string commandId, RetrieveStudyCommand command, SpoolJournal<StagedInstance> journal, Action<RetrievalStatus> status, Action<StagedInstance>? staged, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(journal);
        var target = OpenTarget(command);
        var expected = await ListInstancesAsync(command, cancellationToken);
        if (expected.Count == 0)
        {
            throw new CommandFailureException(FailureReason.StudyNotFound, "The PACS holds no instance of the requested study or series.");
        }

        var seriesBySop = expected.ToDictionary(i => i.SopInstanceUid, i => i.SeriesInstanceUid, StringComparer.Ordinal);
        var before = Usable(journal, target, seriesBySop);
        var missing = expected.Where(i => !before.ContainsKey(i.SopInstanceUid)).ToList();
        var bytesBefore = before.Values.Sum(b => b.SizeBytes);
        status(new RetrievalStatus(before.Count, expected.Count, bytesBefore));
        _metrics.InstancesResumed(before.Count);
        // The fault suite reads "<n> instances, <k> already staged, <m> to fetch": keep that wording.
        _logger.LogInformation("Retrieval {CommandId}: {Total} instances, {Staged} already staged, {Missing} to fetch by {Method} (staging journal: {Ignored} unreadable line(s))",
            commandId, expected.Count, before.Count, missing.Count, _options.Pacs.RetrieveMethod, journal.IgnoredLines);

        if (missing.Count > 0)
        {
            // The sink accepts every instance of the study (series-level fetches bring staged ones again) and drops those staged.
            await using var sink = new StagingSink(target, journal, seriesBySop, before.Keys.ToHashSet(StringComparer.Ordinal), _budget, _options.UploadConcurrency, _metrics, staged, cancellationToken);
            using var registration = _moveDestination?.Register(sink);
            using var progressTimer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, _options.ProgressIntervalMilliseconds / 4)), _time);
            var reporting = ReportWhileRunningAsync(progressTimer, sink, before.Count, expected.Count, bytesBefore, status);
            try
            {
                foreach (var unit in FetchUnits(command, expected, missing))
                {
                    sink.Aborted.ThrowIfCancellationRequested();
                    var result = await FetchAsync(command.StudyInstanceUid, unit, sink, sink.Aborted);
                    _logger.LogDebug("Retrieval {CommandId}: sub-operations completed {Completed}, failed {Failed}, status 0x{Status:X4}",
                        commandId, result.Progress.Completed, result.Progress.Failed, result.Status);
                }

                var transferred = System.Diagnostics.Stopwatch.GetTimestamp();
                await sink.DrainAsync();
                _logger.LogInformation("Retrieval {CommandId}: transfer done, {Uploaded} uploaded, {Existing} already in staging, last uploads drained in {DrainMs} ms",
                    commandId, sink.Uploaded, sink.Existing, (long)System.Diagnostics.Stopwatch.GetElapsedTime(transferred).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (sink.Failure is not null)
            {
                await sink.DrainAsync(); // rethrows the upload failure that stopped the transfer
            }
            catch (Exception ex) when (sink.Failure is not null && ex is not StagingException)
            {
                // The PACS side broke because we aborted after an upload failure: report the cause.
                await sink.DrainAsync();
            }
            finally
            {
                progressTimer.Dispose();
                await reporting;
            }
        }

        var after = Usable(journal, target, seriesBySop);
        var absent = expected.Count(i => !after.ContainsKey(i.SopInstanceUid));
        if (absent > 0)
        {
            throw new CommandFailureException(FailureReason.PacsRejected, $"{absent} of {expected.Count} instances were not received from the PACS.");
        }

        var manifest = expected.Select(i => after[i.SopInstanceUid]).ToList();
        status(new RetrievalStatus(manifest.Count, expected.Count, manifest.Sum(m => m.SizeBytes)));
        // For the audit trail: C-GET delivers to our calling AE, C-MOVE to our C-STORE SCP.
        var receiver = _options.Pacs.RetrieveMethod == RetrieveMethod.Move ? _options.Scp.AeTitle : _options.Pacs.CallingAeTitle;
        return new RetrievalCompleted(command.StudyInstanceUid, manifest, _options.Pacs.AeTitle, receiver);
    }

    private StagingTarget OpenTarget(RetrieveStudyCommand command)
    {
        try
        {
            return StagingTarget.Open(command, _time);
        }
        catch (StagingException ex)
        {
            throw new CommandFailureException(ex.Reason, ex.Message, ex);
        }
        catch (Exception ex) when (ex is UriFormatException or ArgumentException or FormatException)
        {
            throw new CommandFailureException(FailureReason.InvalidCommand, "The staging credential is not a usable SAS URL.", ex);
        }
    }

    private async Task<IReadOnlyList<PacsInstance>> ListInstancesAsync(RetrieveStudyCommand command, CancellationToken cancellationToken)
    {
        await using var queries = await _pacs.OpenQueriesAsync(cancellationToken);
        if (command.SeriesInstanceUids.Count == 0)
        {
            return await PacsGateway.FindInstancesAsync(queries, command.StudyInstanceUid, null, cancellationToken);
        }

        var all = new List<PacsInstance>();
        foreach (var series in command.SeriesInstanceUids.Distinct(StringComparer.Ordinal))
        {
            all.AddRange(await PacsGateway.FindInstancesAsync(queries, command.StudyInstanceUid, series, cancellationToken));
        }

        return all;
    }

    /// <summary>
    /// What the journal records for this study, as this command names it: an entry whose series or blob name differs
    /// from today's (another series split, another prefix shape) is fetched again rather than trusted.
    /// </summary>
    private static Dictionary<string, StagedInstance> Usable(SpoolJournal<StagedInstance> journal, StagingTarget target, Dictionary<string, string> seriesBySop) =>
        journal.Recorded.Values
            .Where(r => seriesBySop.TryGetValue(r.SopInstanceUid, out var series) && series == r.SeriesInstanceUid && r.BlobName == target.BlobNameOf(r.SopInstanceUid))
            .ToDictionary(r => r.SopInstanceUid, StringComparer.Ordinal);

    /// <summary>The whole study when nothing is staged yet and no series subset was asked; else each series that misses instances.</summary>
    private static List<string?> FetchUnits(RetrieveStudyCommand command, IReadOnlyList<PacsInstance> expected, List<PacsInstance> missing)
    {
        if (command.SeriesInstanceUids.Count == 0 && missing.Count == expected.Count)
        {
            return [null];
        }

        return missing.Select(i => i.SeriesInstanceUid).Distinct(StringComparer.Ordinal).Cast<string?>().ToList();
    }

    private Task<RetrieveResult> FetchAsync(string study, string? series, StagingSink sink, CancellationToken cancellationToken) =>
        _options.Pacs.RetrieveMethod == RetrieveMethod.Get
            ? _pacs.GetAsync(study, series, sink, null, cancellationToken)
            : _pacs.MoveAsync(study, series, null, cancellationToken);

    private static async Task ReportWhileRunningAsync(PeriodicTimer timer, StagingSink sink, int before, int total, long bytesBefore, Action<RetrievalStatus> status)
    {
        while (await timer.WaitForNextTickAsync())
        {
            status(new RetrievalStatus(before + sink.Staged, total, bytesBefore + sink.BytesStaged));
        }
    }
}
