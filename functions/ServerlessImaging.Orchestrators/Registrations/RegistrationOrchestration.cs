using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Transfers;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// One registration, as a Durable Task orchestration (instance id = registration id). The business decisions are the
/// pure <see cref="RegistrationOrchestrator"/>'s; this class is the engine side of each step, on the real engine:
/// <list type="number">
/// <item>take everything that already happened — relay answers and user actions (external event
/// <see cref="RegistrationDocuments.EventName"/>), fired durable timers, outcomes of activities, steps of the sites'
/// searches (<see cref="SiteSearches"/>: each site searched by linear code, which records its steps here) — or wait
/// for the next;</item>
/// <item>apply each (<see cref="RegistrationOrchestrator.Apply(RegistrationState, OrchestrationEvent, DateTimeOffset)"/>,
/// stamped with the orchestration's replay-safe clock): timers are armed and the activities with an outcome (store,
/// delete, purge, e-mail) started at once, retried by the engine, given up with a failure event;</item>
/// <item>commit what the applied steps decided in one <see cref="RegistrationActivities.CommitStep"/> (audit records, relay
/// commands in order, the read model), awaited before anything else is applied.</item>
/// </list>
/// The history restarts (continue-as-new, carrying the state and the timers) every <see cref="RegistrationOrchestrationInput.StepsPerHistory"/>
/// steps when no activity is in flight and no site is being asked; the orchestration completes once the purge and
/// everything it sent out settled.
/// </summary>
public sealed class RegistrationOrchestration : TaskOrchestrator<RegistrationOrchestrationInput, string>
{
    /// <summary>The orchestrator's name in both hosts.</summary>
    public const string Name = "RegistrationOrchestration";

    /// <inheritdoc />
    public override async Task<string> RunAsync(TaskOrchestrationContext context, RegistrationOrchestrationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        using var run = new RegistrationRun(context, input);
        return await run.RunAsync();
    }

    /// <summary>The loop of one execution (one history); everything here is replayed, so nothing but the context is consulted.</summary>
    private sealed class RegistrationRun : IDisposable
    {
        // Step activities (audit, read model, relay sends) must eventually succeed: retried quickly, then again after a pause.

        private readonly TaskOrchestrationContext context;
        private readonly RegistrationOrchestrationInput input;
        private readonly Queue<OrchestrationEvent> inbox = new();
        private readonly Dictionary<string, PendingTimer> timers = new(StringComparer.Ordinal);
        private readonly List<RunningActivity> running = [];
        private readonly TaskOptions outcomeRetry;
        private readonly List<WriteAuditActivity> pendingAudit = [];
        private readonly List<OrchestrationCommand> pendingRelayCommands = [];
        private bool uncommitted;
        private bool progressed;
        private readonly CancellationTokenSource timerCancellation = new();
        private readonly SiteSearches searches;
        private Task<string>? nextEvent;
        private TaskCompletionSource? stepped;
        private RegistrationState state;
        private int steps;

        public RegistrationRun(TaskOrchestrationContext context, RegistrationOrchestrationInput input)
        {
            this.context = context;
            this.input = input;
            state = input.StateDocument is null ? RegistrationState.Create(input.RegistrationId) : RegistrationDocuments.ReadState(input.StateDocument);
            outcomeRetry = input.Retry.ToTaskOptions();
            searches = new SiteSearches(context, () => state, RecordSearchStep, timerCancellation.Token);
        }

        private DateTimeOffset Now => new(context.CurrentUtcDateTime, TimeSpan.Zero);

        // Done once the purge happened and every removal and e-mail it waited for reported back.
        private bool IsSettled => state.PurgedAt is not null && state.PendingRemovals.IsEmpty && state.Expertise != ExpertiseStatus.Sending && running.Count == 0 && searches.Done;

        public async Task<string> RunAsync()
        {
            foreach (var timer in input.Timers)
            {
                Arm(timer.TimerId, timer.FireAtUtc);
            }

            foreach (var document in input.PendingEvents)
            {
                if (RegistrationDocuments.TryReadEvent(document) is { } pending)
                {
                    inbox.Enqueue(pending);
                }
            }

            // A new execution resumes the round's searches still waiting to ask an unreachable site again.
            searches.Follow();

            while (true)
            {
                // Everything that already happened is applied before the step's effects go out in one commit: events
                // that arrive while a commit runs (answers of several sites, progress) share the next one.
                while (inbox.TryDequeue(out var pending))
                {
                    Apply(pending);
                }

                while (ReadyTask() is { } ready)
                {
                    if (await TakeAsync(ready) is { } happened)
                    {
                        Apply(happened);
                    }
                }

                if (uncommitted)
                {
                    await CommitAsync();
                    continue;
                }

                ReportProgress();

                if (IsSettled)
                {
                    searches.Stop();
                    timerCancellation.Cancel();
                    return state.Status.ToString();
                }

                // Searches waiting to ask an unreachable site again are resumed by the next execution from the state.
                if (steps >= input.StepsPerHistory && running.Count == 0 && searches.Quiet)
                {
                    searches.Stop();
                    context.ContinueAsNew(
                        input with
                        {
                            StateDocument = RegistrationDocuments.WriteState(state),
                            PendingEvents = [],
                            Timers = [.. timers.Select(t => new PendingDurableTimer(t.Key, t.Value.FireAtUtc))],
                        },
                        preserveUnprocessedEvents: true);
                    timerCancellation.Cancel();
                    return state.Status.ToString();
                }

                if (await NextAsync() is { } next)
                {
                    inbox.Enqueue(next);
                }
            }
        }

        // Something that already happened and was not applied yet (an external event the waiter holds, a fired timer, an
        // activity's outcome), or null when nothing is ready: found without waiting.
        private Task? ReadyTask()
        {
            // One outstanding waiter at a time: a second one would take the next event while the first still waits.
            nextEvent ??= context.WaitForExternalEvent<string>(RegistrationDocuments.EventName);
            return nextEvent.IsCompleted ? nextEvent
                : stepped?.Task.IsCompleted == true ? stepped.Task
                : timers.Values.Select(t => t.Fired).FirstOrDefault(t => t.IsCompleted)
                ?? running.Select(r => (Task)r.Outcome).FirstOrDefault(t => t.IsCompleted);
        }

        // Waits for the next external event, fired timer or activity outcome.
        private async Task<OrchestrationEvent?> NextAsync()
        {
            nextEvent ??= context.WaitForExternalEvent<string>(RegistrationDocuments.EventName);
            stepped ??= new TaskCompletionSource();
            var waits = new List<Task>(2 + timers.Count + running.Count) { nextEvent, stepped.Task };
            waits.AddRange(timers.Values.Select(t => t.Fired));
            waits.AddRange(running.Select(r => r.Outcome));
            return await TakeAsync(await Task.WhenAny(waits));
        }

        // What a completed wait means: the event it carries, a timer's firing, an activity's outcome (or the failure event of
        // an activity given up); null when it has nothing to apply.
        private async Task<OrchestrationEvent?> TakeAsync(Task done)
        {
            if (ReferenceEquals(done, stepped?.Task))
            {
                stepped = null; // A site's search applied a step of its own: what it decided is committed next.
                return null;
            }

            if (ReferenceEquals(done, nextEvent))
            {
                var document = await nextEvent;
                nextEvent = null;
                var @event = RegistrationDocuments.TryReadEvent(document);
                if (@event is null)
                {
                    context.CreateReplaySafeLogger<RegistrationOrchestration>().LogWarning("Registration {RegistrationId}: an external event that is not an event document was ignored.", state.RegistrationId);
                }

                return @event;
            }

            // Timers due at the same instant share one durable timer (Arm): each of them fired.
            var fired = timers.Where(t => ReferenceEquals(done, t.Value.Fired)).Select(t => t.Key).ToList();
            if (fired.Count > 0)
            {
                foreach (var timerId in fired)
                {
                    timers.Remove(timerId);
                }

                foreach (var timerId in fired.Skip(1))
                {
                    inbox.Enqueue(new DurableTimerFired(timerId, Now, timerId));
                }

                return new DurableTimerFired(fired[0], Now, fired[0]);
            }

            var activity = running.First(r => ReferenceEquals(done, r.Outcome));
            running.Remove(activity);
            try
            {
                return RegistrationDocuments.TryReadEvent(await activity.Outcome);
            }
            catch (TaskFailedException failure)
            {
                context.CreateReplaySafeLogger<RegistrationOrchestration>().LogWarning("Registration {RegistrationId}: {Activity} {CommandId} given up after its retries ({Error}).", state.RegistrationId, activity.Name, activity.Command.CommandId, failure.FailureDetails.ErrorType);
                return ActivityOutcomes.GaveUp(activity.Command, Now, input.Retry.MaxAttempts, failure.FailureDetails.ErrorType);
            }
        }

        // A site search's step goes through the state like any event; the loop is woken to commit what it decided.
        private void RecordSearchStep(OrchestrationEvent @event)
        {
            Apply(@event);
            stepped?.TrySetResult();
        }

        // Applies one event: the state moves on, timers are armed and activities with an outcome started at once; the
        // step's audit records and relay commands wait for the commit.
        private void Apply(OrchestrationEvent @event)
        {
            var transition = RegistrationOrchestrator.Apply(state, @event, Now);
            if (transition.Disposition.Kind != DispositionKind.Applied)
            {
                context.CreateReplaySafeLogger<RegistrationOrchestration>().LogInformation("Registration {RegistrationId}: {Event} {Disposition} ({Reason}).", state.RegistrationId, @event.GetType().Name, transition.Disposition.Kind, transition.Disposition.Reason);
            }

            if (ReferenceEquals(transition.State, state))
            {
                return; // A duplicate: nothing changed, nothing to do.
            }

            state = transition.State;
            steps++;
            progressed = true;

            // An ignored event changes nothing anyone reads (the version and the remembered event ids only): no commit of its own.
            uncommitted |= transition.Disposition.Kind != DispositionKind.Ignored;
            foreach (var command in transition.Commands)
            {
                switch (command)
                {
                    case FindStudiesActivity or RetrieveStudyActivity or DeliverStudyActivity or CancelRelayCommand:
                        pendingRelayCommands.Add(command);
                        uncommitted = true;
                        break;
                    case WriteAuditActivity record:
                        pendingAudit.Add(record);
                        uncommitted = true;
                        break;
                    case StartDurableTimer timer:
                        Arm(timer.CommandId, timer.FireAt.UtcDateTime);
                        break;
                    case StartStudyTransfer transfer:
                        running.Add(new RunningActivity(StudyTransferOrchestration.Name, command, TransferAsync(transfer.Input)));
                        break;
                    case CancelStudyTransfer cancel:
                        context.SendEvent(cancel.TransferId, StudyTransferOrchestration.CancelEventName, cancel.CommandId);
                        break;
                    case RetryStudyTransferNow retry:
                        // When it was asked: a transfer ignores a request older than its wait for the next round.
                        context.SendEvent(retry.TransferId, StudyTransferOrchestration.RetryNowEventName, Now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                        break;
                    case DeleteStudyActivity:
                        Start(RegistrationActivities.DeleteStudy, command, outcomeRetry);
                        break;
                    case PurgeStudiesActivity:
                        Start(RegistrationActivities.PurgeStudies, command, outcomeRetry);
                        break;
                    case SendExpertiseEmailActivity:
                        Start(RegistrationActivities.SendExpertiseEmail, command, outcomeRetry);
                        break;
                    case PublishManifestActivity:
                        Start(RegistrationActivities.PublishManifest, command, outcomeRetry);
                        break;
                    default:
                        throw new InvalidOperationException($"No activity for {command.GetType().Name}.");
                }
            }

            searches.Follow();
        }

        // The applied steps' effects in one activity: audit records, relay commands (in decision order), the read model.
        // Awaited before anything else is applied, so relays see commands in order and the read model never runs ahead
        // of the audit trail.
        private async Task CommitAsync()
        {
            var commit = new RegistrationStepRecord(state.RegistrationId, state.Version, RegistrationDocuments.WriteState(state), [.. pendingAudit], [.. pendingRelayCommands]);
            pendingAudit.Clear();
            pendingRelayCommands.Clear();
            uncommitted = false;
            await UntilDoneAsync(RegistrationActivities.CommitStep, commit);
            ReportProgress();
        }

        // The custom status: how far the orchestration is (tests and operators wait on it; the API reads the read model).
        private void ReportProgress()
        {
            if (progressed)
            {
                context.SetCustomStatus(new RegistrationProgress(state.Version, state.Status.ToString()));
                progressed = false;
            }
        }

        private Task UntilDoneAsync(string activity, object activityInput) =>
            StepActivity.UntilDoneAsync(context, activity, activityInput, state.RegistrationId);

        public void Dispose() => timerCancellation.Dispose();

        // One durable timer per instant: the state machine may arm several at once (deliveries of studies that failed
        // together), and every durable timer costs a message and an episode when it fires (even once stale).
        private void Arm(string timerId, DateTime fireAtUtc)
        {
            if (!timers.ContainsKey(timerId))
            {
                var sameInstant = timers.Values.FirstOrDefault(t => t.FireAtUtc == fireAtUtc);
                timers[timerId] = sameInstant ?? new PendingTimer(fireAtUtc, context.CreateTimer(DateTime.SpecifyKind(fireAtUtc, DateTimeKind.Utc), timerCancellation.Token));
            }
        }

        // A study's transfer runs as a sub-orchestration; its outcome comes back as an event like an activity's. One that
        // fails (a bug, not a business failure: those are outcomes) settles the study as failed.
        private async Task<string?> TransferAsync(StudyTransferInput transfer)
        {
            StudyTransferOutcome outcome;
            try
            {
                outcome = await context.CallSubOrchestratorAsync<StudyTransferOutcome>(
                    StudyTransferOrchestration.Name, new StudyTransferOrchestrationInput(transfer, input.Retry), new SubOrchestrationOptions { InstanceId = transfer.TransferId });
            }
            catch (TaskFailedException failure)
            {
                context.CreateReplaySafeLogger<RegistrationOrchestration>().LogError("Registration {RegistrationId}: transfer {TransferId} failed ({Error}).", state.RegistrationId, transfer.TransferId, failure.FailureDetails.ErrorType);
                outcome = new StudyTransferOutcome(transfer.TransferId, transfer.StudyInstanceUid, StudyTransferResult.Failed, null, 0, 0, new StudyFailure("transfer_failed", "The study's transfer stopped on an internal error."), MayHaveStored: true);
            }

            return RegistrationDocuments.WriteEvent(new StudyTransferSettled(transfer.TransferId + "/settled", Now, outcome));
        }

        private void Start(string activity, OrchestrationCommand command, TaskOptions? options) =>
            running.Add(new RunningActivity(activity, command, context.CallActivityAsync<string?>(activity, command, options)));

        private sealed record PendingTimer(DateTime FireAtUtc, Task Fired);

        private sealed record RunningActivity(string Name, OrchestrationCommand Command, Task<string?> Outcome);
    }
}

/// <summary>The orchestration's custom status: how far it is (the API reads the read model, which has the detail).</summary>
/// <param name="Version">The state's version.</param>
/// <param name="Status">The registration's status.</param>
public sealed record RegistrationProgress(long Version, string Status);
