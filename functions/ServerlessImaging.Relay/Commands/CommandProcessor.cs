using System.Diagnostics;
using Azure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Deduplication;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Pacs;
using ServerlessImaging.Relay.Retrieval;
using ServerlessImaging.Relay.Staging;

namespace ServerlessImaging.Relay.Commands;

/// <summary>
/// Takes commands from <c>relay-commands-&lt;site&gt;</c> and runs them in two pools: up to <c>MaxConcurrentSearches</c>
/// queries (FindStudies, ListSeries: short C-FINDs) and up to <c>MaxConcurrentCommands</c> transfers (retrievals and
/// deliveries, which last seconds to minutes), so a search never waits behind a transfer; Echo and Cancel bypass both.
/// It renews each lease from receipt, answers with events, and completes the message only after its answer is sent.
/// Every failure becomes a <see cref="CommandFailed"/> event; nothing crashes the service.
/// </summary>
public sealed class CommandProcessor : BackgroundService
{
    private readonly RelayOptions _options;
    private readonly RelayQueues _queues;
    private readonly EventPublisher _events;
    private readonly PacsGateway _pacs;
    private readonly StudyQueries _queries;
    private readonly RetrievalRunner _retrievals;
    private readonly StagingJournals _journals;
    private readonly DeliveryRunner _deliveries;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DeliveryTally> _runningDeliveries = new(StringComparer.Ordinal);
    private readonly RunningCommands _running;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<CommandProcessor> _logger;
    private readonly ProcessedMessageIds _processed = new(10_000);
    private readonly SemaphoreSlim _searchSlots;
    private readonly SemaphoreSlim _transferSlots;

    // Commands received and not finished, waiting for their pool or running: bounds the leases held (each renewed).
    private readonly SemaphoreSlim _admitted;
    private readonly List<Task> _inFlight = [];
    private readonly Lock _inFlightGate = new();

    /// <summary>Creates the processor.</summary>
    public CommandProcessor(RelayOptions options, RelayQueues queues, EventPublisher events, PacsGateway pacs, StudyQueries queries, RetrievalRunner retrievals, StagingJournals journals, DeliveryRunner deliveries, RunningCommands running, RelayMetrics metrics, ILogger<CommandProcessor> logger)
    {
        _options = options;
        _queues = queues;
        _events = events;
        _pacs = pacs;
        _queries = queries;
        _retrievals = retrievals;
        _journals = journals;
        _deliveries = deliveries;
        _running = running;
        _metrics = metrics;
        _logger = logger;
        _searchSlots = new SemaphoreSlim(options.MaxConcurrentSearches);
        _transferSlots = new SemaphoreSlim(options.MaxConcurrentCommands);
        _admitted = new SemaphoreSlim(2 * (options.MaxConcurrentSearches + options.MaxConcurrentCommands));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = ResourceNames.CommandQueueFor(_options.SiteId);
        _logger.LogInformation("Relay for site {SiteId} listening on {Queue}", _options.SiteId, queue);
        try
        {
            await foreach (var message in _queues.Channel.ListenAsync(queue, stoppingToken))
            {
                if (message.Envelope.Body is CancelCommand or EchoCommand)
                {
                    Start(message, pool: null, stoppingToken);
                    continue;
                }

                await _admitted.WaitAsync(stoppingToken);
                Start(message, message.Envelope.Body is FindStudiesCommand or ListSeriesCommand ? _searchSlots : _transferSlots, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] pending;
        lock (_inFlightGate)
        {
            pending = [.. _inFlight];
        }

        await Task.WhenAll(pending);
    }

    private void Start(ChannelMessage message, SemaphoreSlim? pool, CancellationToken stoppingToken)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await HandleAsync(message, pool, stoppingToken);
            }
            finally
            {
                if (pool is not null)
                {
                    _admitted.Release();
                }
            }
        }, CancellationToken.None);
        lock (_inFlightGate)
        {
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(task);
        }
    }

    private async Task HandleAsync(ChannelMessage message, SemaphoreSlim? pool, CancellationToken stoppingToken)
    {
        var envelope = message.Envelope;
        var type = envelope.Type;
        if (!_processed.TryBegin(envelope.MessageId))
        {
            _logger.LogInformation("Command {MessageId} ({Type}) is a duplicate of one handled or running; dropped", envelope.MessageId, type);
            await CompleteQuietlyAsync(message, stoppingToken);
            return;
        }

        if (envelope.Body is not RelayCommand)
        {
            // An event (or anything not a command) on a command queue can never be handled: quarantine and report.
            await _queues.Channel.QuarantineAsync(message, $"A '{type}' message is not a command.", stoppingToken);
            return;
        }

        using var renewing = new CancellationTokenSource();
        var renewal = RenewWhileRunningAsync(message, renewing.Token);
        var holdsSlot = false;
        try
        {
            if (pool is not null)
            {
                await pool.WaitAsync(stoppingToken);
                holdsSlot = true;
            }

            await HandleInSlotAsync(message, renewing, renewal, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested && !holdsSlot)
        {
            // Stopping before it started: it comes back after its lease, like any command interrupted by a shutdown.
            _processed.Forget(envelope.MessageId);
            await renewing.CancelAsync();
            await renewal;
        }
        finally
        {
            if (holdsSlot)
            {
                pool!.Release();
            }
        }
    }

    private async Task HandleInSlotAsync(ChannelMessage message, CancellationTokenSource renewing, Task renewal, CancellationToken stoppingToken)
    {
        var envelope = message.Envelope;
        var type = envelope.Type;
        var started = Stopwatch.GetTimestamp();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var tracking = _running.Track(envelope.MessageId, cancel);
        var outcome = "ok";
        try
        {
            _logger.LogInformation("Command {MessageId} ({Type}) for {CorrelationId} started, delivery {Delivery}", envelope.MessageId, type, envelope.CorrelationId, message.DeliveryCount);
            await RunAsync(envelope, cancel.Token);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Service stopping: leave the message to come back after its lease (a restarted relay resumes it).
            _processed.Forget(envelope.MessageId);
            _runningDeliveries.TryRemove(envelope.MessageId, out _);
            await renewing.CancelAsync();
            await renewal;
            _logger.LogInformation("Command {MessageId} interrupted by shutdown; it will be redelivered", envelope.MessageId);
            return;
        }
        catch (Exception ex)
        {
            var (reason, safe) = Classify(ex, cancel.IsCancellationRequested);
            RelayEvent failure = new CommandFailed(type, reason, safe);
            var reasonName = reason.ToString();
            if (envelope.Body is DeliverStudyCommand deliver)
            {
                var failed = DeliveryFailureOf(envelope.MessageId, deliver, ex, cancel.IsCancellationRequested);
                (failure, reasonName, safe) = (failed, failed.Reason.ToString(), failed.SafeMessage);
            }

            outcome = "failed";
            _metrics.CommandFailed(type, reasonName);
            _logger.LogWarning("Command {MessageId} ({Type}) failed: {Reason}: {SafeMessage} ({Error})", envelope.MessageId, type, reasonName, safe, ex.GetType().Name);
            try
            {
                await _events.PublishAsync(envelope, failure, "failed", stoppingToken);
            }
            catch (Exception sendError) when (sendError is not OperationCanceledException)
            {
                // The channel is down beyond the retries: keep the command, it will be handled again.
                _processed.Forget(envelope.MessageId);
                await renewing.CancelAsync();
                await renewal;
                _logger.LogError("Could not report the failure of command {MessageId}: {Error}; it will be redelivered", envelope.MessageId, sendError.GetType().Name);
                return;
            }
        }

        await renewing.CancelAsync();
        await renewal;
        await CompleteQuietlyAsync(message, stoppingToken);
        _metrics.CommandHandled(type, outcome, Stopwatch.GetElapsedTime(started));
        _logger.LogInformation("Command {MessageId} ({Type}) done: {Outcome} in {Elapsed} ms", envelope.MessageId, type, outcome, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task RunAsync(MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        if (!string.Equals(envelope.SiteId, _options.SiteId, StringComparison.Ordinal))
        {
            throw new CommandFailureException(FailureReason.InvalidCommand, "The command is addressed to another site.");
        }

        switch (envelope.Body)
        {
            case EchoCommand:
                RelayEvent result;
                try
                {
                    var rtt = await _pacs.EchoAsync(cancellationToken);
                    result = new EchoResult(PacsEchoStatus.Ok, Math.Round(rtt.TotalMilliseconds, 2));
                }
                catch (Exception ex) when (PacsFailures.Classify(ex) is not null)
                {
                    result = new EchoResult(PacsEchoStatus.Failed, null);
                }

                await _events.PublishAsync(envelope, result, "echo", cancellationToken);
                break;
            case FindStudiesCommand find:
                await _events.PublishAsync(envelope, await _queries.FindStudiesAsync(find, cancellationToken), "studies", cancellationToken);
                break;
            case ListSeriesCommand list:
                await _events.PublishAsync(envelope, await _queries.ListSeriesAsync(list, cancellationToken), "series", cancellationToken);
                break;
            case RetrieveStudyCommand retrieve:
                await RetrieveAsync(envelope, retrieve, cancellationToken);
                break;
            case DeliverStudyCommand deliver:
                await DeliverAsync(envelope, deliver, cancellationToken);
                break;
            case CancelCommand cancel:
                var running = _running.Cancel(cancel.CommandMessageId) == 1;
                _logger.LogInformation("Cancel {MessageId}: {Outcome}", envelope.MessageId, running ? "the running command was cancelled" : "not running; it stops at once if it starts later");
                break;
            default:
                throw new CommandFailureException(FailureReason.InvalidCommand, $"'{envelope.Type}' is not a command this relay handles.");
        }
    }

    private async Task RetrieveAsync(MessageEnvelope envelope, RetrieveStudyCommand command, CancellationToken cancellationToken)
    {
        // Held for the whole command: another command for the same destination waits, then resumes from this one's records.
        await using var journal = await _journals.OpenAsync(command.Destination, cancellationToken);
        var interval = TimeSpan.FromMilliseconds(_options.ProgressIntervalMilliseconds);
        var report = new RetrievalProgressReport(command.StudyInstanceUid, _options.StagedReportBatchSize);
        var sequence = 0;
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = Task.Run(async () =>
        {
            // With staged lists on, ticks often so a full batch leaves at once; counts alone wait for the interval.
            var batching = _options.StagedReportBatchSize > 0;
            using var timer = new PeriodicTimer(batching ? TimeSpan.FromMilliseconds(Math.Min(100, interval.TotalMilliseconds)) : interval);
            var lastSent = Stopwatch.GetTimestamp();
            try
            {
                while (await timer.WaitForNextTickAsync(stopProgress.Token))
                {
                    while (report.Next(!batching || Stopwatch.GetElapsedTime(lastSent) >= interval) is { } next)
                    {
                        lastSent = Stopwatch.GetTimestamp();
                        await _events.PublishAsync(envelope, next, $"progress/{++sequence}", stopProgress.Token);
                        if (report.Waiting < Math.Max(1, _options.StagedReportBatchSize))
                        {
                            break;
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                // Progress is advisory; the completion or failure event is what counts (its manifest lists every instance).
                _logger.LogWarning("Progress event of {MessageId} not sent: {Error}", envelope.MessageId, ex.GetType().Name);
            }
        }, CancellationToken.None);

        RetrievalCompleted completed;
        try
        {
            completed = await _retrievals.RunAsync(envelope.MessageId, command, journal, report.Update, report.Staged, cancellationToken);
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progress;
        }

        await _events.PublishAsync(envelope, completed, "completed", cancellationToken);
        // Only once the completion is out: until then a redelivery must still find what was staged.
        try
        {
            await journal.DeleteAsync();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Staging journal of command {MessageId} could not be deleted ({Error}); it goes with the stale ones", envelope.MessageId, ex.GetType().Name);
        }
    }

    private async Task DeliverAsync(MessageEnvelope envelope, DeliverStudyCommand command, CancellationToken cancellationToken)
    {
        var tally = new DeliveryTally();
        _runningDeliveries[envelope.MessageId] = tally;
        // Held for the whole command: another command for the same study and destination waits, then resumes from it.
        await using var journal = await _deliveries.OpenJournalAsync(command, cancellationToken);
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.ProgressIntervalMilliseconds));
            var sequence = 0;
            var last = -1;
            try
            {
                while (await timer.WaitForNextTickAsync(stopProgress.Token))
                {
                    var done = tally.Done;
                    if (tally.Total > 0 && done != last)
                    {
                        last = done;
                        await _events.PublishAsync(envelope, new DeliveryProgress(command.StudyInstanceUid, done, tally.Total, tally.BytesSent), $"progress/{++sequence}", stopProgress.Token);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Progress event of {MessageId} not sent: {Error}", envelope.MessageId, ex.GetType().Name);
            }
        }, CancellationToken.None);

        DeliveryCompleted completed;
        try
        {
            completed = await _deliveries.RunAsync(envelope.MessageId, command, journal, tally, cancellationToken);
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progress;
        }

        await _events.PublishAsync(envelope, completed, "completed", cancellationToken);
        _runningDeliveries.TryRemove(envelope.MessageId, out _);
        // Only once the completion is out: until then a redelivery must still find what was sent.
        try
        {
            await journal.DeleteAsync();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Delivery journal of command {MessageId} could not be deleted ({Error}); it goes with the stale ones", envelope.MessageId, ex.GetType().Name);
        }

        _logger.LogInformation("Delivery {MessageId}: {Sent} instance(s) sent, {Present} already at the destination", envelope.MessageId, completed.InstancesSent, completed.InstancesAlreadyPresent);
    }

    private DeliveryFailed DeliveryFailureOf(string messageId, DeliverStudyCommand command, Exception ex, bool cancelled)
    {
        _runningDeliveries.TryRemove(messageId, out var tally);
        var failure = ex switch
        {
            OperationCanceledException when cancelled => new DeliveryException(DeliveryFailureReason.Cancelled, false, "The command was cancelled."),
            DeliveryException d => d,
            CommandFailureException { Reason: FailureReason.InvalidCommand } c => new DeliveryException(DeliveryFailureReason.InvalidCommand, false, c.Message),
            _ => DeliveryFailures.FromDestination(ex) ?? new DeliveryException(DeliveryFailureReason.Internal, false, $"Unexpected {ex.GetType().Name} in the relay."),
        };
        return new DeliveryFailed(command.StudyInstanceUid, failure.Reason, failure.Transient, failure.Message, tally?.Done ?? 0, tally?.Total ?? 0);
    }

    private static (FailureReason Reason, string SafeMessage) Classify(Exception ex, bool cancelled) => ex switch
    {
        OperationCanceledException when cancelled => (FailureReason.Cancelled, "The command was cancelled."),
        CommandFailureException c => (c.Reason, c.Message),
        Staging.StagingException s => (s.Reason, s.Message),
        RequestFailedException r => (FailureReason.StagingFailed, $"Storage answered HTTP {r.Status}."),
        _ when PacsFailures.Classify(ex) is { } pacs => pacs,
        _ => (FailureReason.Internal, $"Unexpected {ex.GetType().Name} in the relay."),
    };

    private async Task RenewWhileRunningAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        var lease = _queues.Channel.Options.VisibilityTimeout;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(lease / 2, cancellationToken);
                await _queues.Channel.RenewAsync(message, lease, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Lease of command {MessageId} could not be renewed: {Error}", message.Envelope.MessageId, ex.GetType().Name);
        }
    }

    private async Task CompleteQuietlyAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _queues.Channel.CompleteAsync(message, cancellationToken);
        }
        catch (LeaseLostException)
        {
            _logger.LogInformation("Command {MessageId} was already re-leased; its redelivery will be dropped or resumed", message.Envelope.MessageId);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _searchSlots.Dispose();
        _transferSlots.Dispose();
        _admitted.Dispose();
        base.Dispose();
    }
}
