using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Orchestrators.Transfers;

/// <summary>
/// One selected study made available, as a sub-orchestration of its registration (instance id = the transfer id):
/// <list type="number">
/// <item>ask the relay of each site holding the study in turn to retrieve it into staging; the relay's progress and
/// answer arrive as external events, and the instances already staged are stored while the rest arrive;</item>
/// <item>store what the relay staged into the DICOM service (checked against the patient and the relay's list, verified);</item>
/// <item>when every site failed for a cause a later attempt may cure, wait on a durable timer and go round again, up to
/// the plan's rounds;</item>
/// <item>stop when the registration cancels (the study deleted, the registration purged).</item>
/// </list>
/// Each step's audit records (numbered in the transfer's own trail), relay commands and progress go out in one
/// <see cref="StudyTransferActivities.CommitStep"/>; the outcome, with the transfer's closing record, is the registration's to record.
/// </summary>
public sealed class StudyTransferOrchestration : TaskOrchestrator<StudyTransferOrchestrationInput, StudyTransferOutcome>
{
    /// <summary>The orchestrator's name in both hosts.</summary>
    public const string Name = "StudyTransferOrchestration";

    /// <summary>The external event the registration raises to stop the transfer.</summary>
    public const string CancelEventName = "CancelStudyTransfer";

    /// <summary>The external event the registration raises when the study is selected again: a wait for the next round ends now (payload: when it was asked, round-trip UTC).</summary>
    public const string RetryNowEventName = "RetryStudyTransferNow";

    /// <inheritdoc />
    public override Task<StudyTransferOutcome> RunAsync(TaskOrchestrationContext context, StudyTransferOrchestrationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return new TransferRun(context, input).RunAsync();
    }

    private sealed class TransferRun(TaskOrchestrationContext context, StudyTransferOrchestrationInput input)
    {
        // Far above what a retrieval reports (progress about once a second, a stored batch at a time).
        private const int MaxRelayEventsPerAttempt = 5000;

        private readonly StudyTransferInput transfer = input.Transfer;
        private readonly List<WriteAuditActivity> audit = [];
        private readonly List<OrchestrationCommand> relayCommands = [];
        private readonly List<Task> stagedStores = [];
        private readonly Task<string> cancelled = context.WaitForExternalEvent<string>(CancelEventName);
        private Task<string>? nextRelayEvent;
        private Task<string>? retryNow;
        private StudyTransferProgress progress = new(input.Transfer.RegistrationId, input.Transfer.StudyInstanceUid, input.Transfer.TransferId, 0, StudyStatus.Retrieving, null, 0, 1, 0, 0, 0, null, null);
        private long auditSequence;
        private bool storeStarted;

        private DateTimeOffset Now => new(context.CurrentUtcDateTime, TimeSpan.Zero);

        private string StagingPrefix => CommandIds.StagingPrefix(transfer.RegistrationId, transfer.StudyInstanceUid);

        public async Task<StudyTransferOutcome> RunAsync()
        {
            StudyFailure? lastFailure = null;
            var retryable = false;
            for (var round = 1; ; round++)
            {
                foreach (var siteId in transfer.SiteIds)
                {
                    var retrieval = await RetrieveAsync(siteId, round);
                    if (retrieval is RetrievalCancelled)
                    {
                        return await CancelledAsync();
                    }

                    if (retrieval is RetrievalFailedAtSite failed)
                    {
                        (lastFailure, retryable) = (failed.Failure, failed.Transient);
                        continue;
                    }

                    var finished = ((RetrievalSucceeded)retrieval).Event;
                    if (finished.Manifest.Count == 0)
                    {
                        Audit(AuditAction.StudyFailed, AuditOutcome.MinorFailure, siteId, "Retrieval returned no instance.", happenedAt: finished.At);
                        (lastFailure, retryable) = (new StudyFailure("empty_study", "The PACS returned no instance for the study."), false);
                        continue;
                    }

                    return await StoreAsync(siteId, finished);
                }

                // Every site failed this round: a cause a later attempt may cure waits for the next round.
                var failure = lastFailure ?? new StudyFailure("no_source", "No site holding the study is left to try.");
                if (!retryable || round >= transfer.MaxRounds)
                {
                    Progress(StudyStatus.Retrieving, failure: failure);
                    Audit(AuditAction.StudyFailed, AuditOutcome.SeriousFailure, progress.SiteId, round > 1 ? Invariant($"{failure.Code} rounds={round}") : failure.Code);
                    return await SettledAsync(StudyTransferResult.Failed, 0, failure);
                }

                var due = Now + transfer.RetryInterval;
                Progress(StudyStatus.Pending, failure: failure, nextAttemptAt: due);
                Audit(
                    AuditAction.RetrievalRetryScheduled, AuditOutcome.MinorFailure, progress.SiteId,
                    Invariant($"{failure.Code}: every site holding the study failed; round {round + 1} of {transfer.MaxRounds} at {due.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
                await CommitAsync();
                if (!await WaitForNextRoundAsync(due))
                {
                    return await CancelledAsync();
                }
            }
        }

        // Until the round is due, or the study is selected again (a request made before this wait began is stale: it
        // was meant for an earlier one); false when cancelled meanwhile.
        private async Task<bool> WaitForNextRoundAsync(DateTimeOffset due)
        {
            var waitBegan = Now;
            using var timerCancellation = new CancellationTokenSource();
            var timer = context.CreateTimer(due.UtcDateTime, timerCancellation.Token);
            for (var requests = 0; requests < MaxRelayEventsPerAttempt; requests++)
            {
                retryNow ??= context.WaitForExternalEvent<string>(RetryNowEventName);
                var done = await Task.WhenAny(timer, cancelled, retryNow);
                if (done == timer)
                {
                    return true;
                }

                if (done == cancelled)
                {
                    timerCancellation.Cancel();
                    return false;
                }

                var askedAt = DateTimeOffset.TryParse(await retryNow, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : DateTimeOffset.MinValue;
                retryNow = null;
                if (askedAt >= waitBegan)
                {
                    timerCancellation.Cancel();
                    return true;
                }
            }

            await timer;
            return true;
        }

        // One retrieval attempt at one site: the command goes out with its audit record, then the relay's events are
        // taken until it finishes or fails (events of older attempts, or from another site, are ignored).
        private async Task<RetrievalResult> RetrieveAsync(string siteId, int round)
        {
            var attempt = progress.Attempt + 1;
            var commandId = CommandIds.Retrieve(transfer.TransferId, attempt);
            relayCommands.Add(new RetrieveStudyActivity(commandId, transfer.RegistrationId, siteId, transfer.StudyInstanceUid, StagingPrefix));
            progress = progress with { Attempt = attempt, Round = round };
            Progress(StudyStatus.Retrieving, siteId, instancesDone: 0, instancesTotal: 0, bytesDone: 0, failure: progress.Failure);
            Audit(AuditAction.RetrievalStarted, AuditOutcome.Success, siteId, round > 1 ? Invariant($"attempt={attempt} round={round}") : Invariant($"attempt={attempt}"));
            await CommitAsync();

            var batch = 0;
            for (var taken = 0; taken < MaxRelayEventsPerAttempt; taken++)
            {
                nextRelayEvent ??= context.WaitForExternalEvent<string>(RegistrationDocuments.EventName);
                if (await Task.WhenAny(nextRelayEvent, cancelled) == cancelled)
                {
                    relayCommands.Add(new CancelRelayCommand(CommandIds.Cancel(commandId), transfer.RegistrationId, siteId, commandId));
                    await CommitAsync();
                    return new RetrievalCancelled();
                }

                var @event = RegistrationDocuments.TryReadEvent(await nextRelayEvent);
                nextRelayEvent = null;
                switch (@event)
                {
                    case RetrievalProgressed p when IsOfThisAttempt(p.CommandId, p.SiteId):
                        if (p.Staged is { Count: > 0 } staged)
                        {
                            // Stored while the rest is retrieved; the final store sends only what is still missing.
                            storeStarted = true;
                            stagedStores.Add(context.CallActivityAsync(
                                RegistrationActivities.StoreStagedInstances,
                                new StoreStagedInstancesActivity(CommandIds.StoreStaged(transfer.TransferId, attempt, ++batch), transfer.RegistrationId, siteId, transfer.StudyInstanceUid, StagingPrefix, staged, transfer.Patient)));
                        }

                        if (p.InstancesDone > progress.InstancesDone || (p.InstancesDone == progress.InstancesDone && p.BytesDone > progress.BytesDone))
                        {
                            Progress(StudyStatus.Retrieving, siteId, p.InstancesDone, Math.Max(p.InstancesTotal, p.InstancesDone), p.BytesDone, progress.Failure);
                            await CommitAsync();
                        }

                        break;
                    case RetrievalFinished f when IsOfThisAttempt(f.CommandId, f.SiteId):
                        return new RetrievalSucceeded(f);
                    case RelayCommandFailed f when IsOfThisAttempt(f.CommandId, f.SiteId):
                        Audit(AuditAction.StudyFailed, AuditOutcome.MinorFailure, siteId, "Retrieval failed: " + f.Reason, happenedAt: f.At);
                        var failure = new StudyFailure(RelayFailures.CodeOf(f.Reason), StudyFailure.SafeText(f.SafeMessage));
                        Progress(StudyStatus.Retrieving, failure: failure);
                        await CommitAsync();
                        return new RetrievalFailedAtSite(failure, RelayFailures.IsTransient(f.Reason));
                    default:
                        Log().LogInformation("Transfer {TransferId}: a {Event} that is not of retrieval attempt {Attempt} at its site was ignored.", transfer.TransferId, @event?.GetType().Name ?? "malformed event", attempt);
                        break;
                }
            }

            // A relay that floods its answers would grow the history without bound: the attempt fails, another may follow.
            var flooded = new StudyFailure("relay_error", "The relay sent too many reports for one retrieval.");
            Audit(AuditAction.StudyFailed, AuditOutcome.MinorFailure, siteId, "Retrieval failed: too many reports");
            Progress(StudyStatus.Retrieving, failure: flooded);
            await CommitAsync();
            return new RetrievalFailedAtSite(flooded, Transient: true);

            // Command ids are predictable: only the site the retrieval was sent to answers for it.
            bool IsOfThisAttempt(string eventCommandId, string eventSiteId) =>
                string.Equals(eventCommandId, commandId, StringComparison.Ordinal) && string.Equals(eventSiteId, siteId, StringComparison.Ordinal);
        }

        // Every instance is staged: the store checks each against the patient and the relay's list, sends what the
        // DICOM service lacks and verifies; retried by the engine, given up with a failure.
        private async Task<StudyTransferOutcome> StoreAsync(string siteId, RetrievalFinished finished)
        {
            var manifest = finished.Manifest;
            Audit(
                AuditAction.RetrievalCompleted, AuditOutcome.Success, siteId, Invariant($"instances={manifest.Count} bytes={manifest.TotalBytes}"),
                record => record with { SourceAeTitle = finished.SourceAeTitle, DestinationAeTitle = finished.DestinationAeTitle }, finished.At);

            // No commit of its own: the completion's record goes out with the next one (the outcome's, usually), an
            // activity and an episode fewer per study; meanwhile the study shows its retrieval's last progress.
            var command = new StoreStudyActivity(CommandIds.Store(transfer.TransferId, progress.Attempt), transfer.RegistrationId, siteId, transfer.StudyInstanceUid, StagingPrefix, manifest, transfer.Patient);
            storeStarted = true;
            OrchestrationEvent? outcome;
            try
            {
                outcome = RegistrationDocuments.TryReadEvent(await context.CallActivityAsync<string?>(RegistrationActivities.StoreStudy, command, input.Retry.ToTaskOptions()));
            }
            catch (TaskFailedException failure)
            {
                Log().LogWarning("Transfer {TransferId}: StoreStudy given up after its retries ({Error}).", transfer.TransferId, failure.FailureDetails.ErrorType);
                outcome = ActivityOutcomes.GaveUp(command, Now, input.Retry.MaxAttempts, failure.FailureDetails.ErrorType);
            }

            if (cancelled.IsCompleted)
            {
                return await CancelledAsync(); // Deleted or purged while storing: the registration removes the study again.
            }

            // The closing record travels with the outcome: the registration's commit of the outcome writes it.
            if (outcome is StoreStudyCompleted stored)
            {
                Audit(AuditAction.StudyStored, AuditOutcome.Success, siteId, Invariant($"instances={stored.InstancesStored} sentNow={stored.InstancesSent} verifiedByQido={stored.InstancesVerified}"));
                return await SettledAsync(StudyTransferResult.Available, stored.InstancesStored, null);
            }

            var failed = outcome as StoreStudyFailed;
            var why = new StudyFailure(failed?.Code ?? StoreFailureCodes.StoreFailed, StudyFailure.SafeText(failed?.SafeMessage ?? "The store reported no outcome."));
            Audit(AuditAction.StudyStoreFailed, AuditOutcome.SeriousFailure, siteId, why.Code + ": " + why.SafeMessage);
            return await SettledAsync(StudyTransferResult.Failed, 0, why);
        }

        private Task<StudyTransferOutcome> CancelledAsync() => SettledAsync(StudyTransferResult.Cancelled, 0, null);

        // The stores of staged batches still running are waited for, so "may have stored" is known when the outcome goes
        // out. The records not committed yet (the closing one) go with it: the registration's commit writes them, one
        // activity fewer per study.
        private async Task<StudyTransferOutcome> SettledAsync(StudyTransferResult result, int instancesStored, StudyFailure? failure)
        {
            await Task.WhenAll(stagedStores.Select(SwallowFailure));
            var closing = audit.ToList();
            audit.Clear();
            return new StudyTransferOutcome(transfer.TransferId, transfer.StudyInstanceUid, result, progress.SiteId, progress.Attempt, instancesStored, failure, storeStarted)
            {
                ClosingAudit = closing,
            };
        }

        private static async Task SwallowFailure(Task store)
        {
            try
            {
                await store;
            }
            catch (TaskFailedException)
            {
                // A batch store is best effort: the study's own store sends what is missing.
            }
        }

        private void Progress(StudyStatus status, string? siteId = null, int? instancesDone = null, int? instancesTotal = null, long? bytesDone = null, StudyFailure? failure = null, DateTimeOffset? nextAttemptAt = null) =>
            progress = progress with
            {
                Version = progress.Version + 1,
                Status = status,
                SiteId = siteId ?? progress.SiteId,
                InstancesDone = instancesDone ?? progress.InstancesDone,
                InstancesTotal = instancesTotal ?? progress.InstancesTotal,
                BytesDone = bytesDone ?? progress.BytesDone,
                Failure = failure,
                NextAttemptAt = nextAttemptAt,
            };

        // The record's event time is when the fact happened (a relay's answer: when it was received), its recorded-at
        // when this transfer applied it.
        private void Audit(AuditAction action, AuditOutcome outcome, string? siteId, string detail, Func<WriteAuditActivity, WriteAuditActivity>? extra = null, DateTimeOffset? happenedAt = null)
        {
            var sequence = ++auditSequence;
            var record = new WriteAuditActivity(CommandIds.TransferAudit(transfer.TransferId, sequence), transfer.RegistrationId, happenedAt ?? Now, action, outcome, transfer.PatientKey, null, siteId, transfer.StudyInstanceUid, detail)
            {
                Stream = transfer.TransferId,
                Sequence = sequence,
                RecordedAt = Now,
            };
            audit.Add(extra is null ? record : extra(record));
        }

        // The step's records, commands and progress in one activity, which must eventually succeed (a store unreachable
        // for minutes): retried quickly, then again after a pause, for a day.
        private async Task CommitAsync()
        {
            var step = new StudyTransferStepRecord(transfer.TransferId, transfer.RegistrationId, [.. audit], [.. relayCommands], progress);
            audit.Clear();
            relayCommands.Clear();
            await StepActivity.UntilDoneAsync(context, StudyTransferActivities.CommitStep, step, transfer.TransferId);
        }

        private ILogger Log() => context.CreateReplaySafeLogger<StudyTransferOrchestration>();

        private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
    }

    private abstract record RetrievalResult;

    private sealed record RetrievalSucceeded(RetrievalFinished Event) : RetrievalResult;

    private sealed record RetrievalFailedAtSite(StudyFailure Failure, bool Transient) : RetrievalResult;

    private sealed record RetrievalCancelled : RetrievalResult;
}
