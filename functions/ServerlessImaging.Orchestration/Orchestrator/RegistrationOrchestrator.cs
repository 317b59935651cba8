using System.Collections.Immutable;
using System.Globalization;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Filters;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Meetings;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// The registration orchestrator: a pure, deterministic function <c>(state, event) -> (state, commands)</c>.
/// No clock, no I/O, no randomness: time is <see cref="OrchestrationEvent.At"/> (and, for audit records, the
/// commit time the caller passes), every id is derived (<see cref="CommandIds"/>). Any event, in any order, any number of times, yields a transition; nothing
/// throws on bad or late input. See README.md for the table of states, events and commands.
/// </summary>
public static class RegistrationOrchestrator
{
    /// <summary>Applies one event; its audit records are stamped with the event's own time.</summary>
    public static Transition Apply(RegistrationState state, OrchestrationEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        return Apply(state, @event, @event.At);
    }

    /// <summary>
    /// Applies one event. <paramref name="recordedAt"/> is the app's clock when the step is committed: the audit
    /// records of the step carry it (never earlier than the registration's previous record) and the next sequence numbers.
    /// </summary>
    public static Transition Apply(RegistrationState state, OrchestrationEvent @event, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(@event);

        if (string.IsNullOrEmpty(@event.EventId) || state.ProcessedEventIds.Contains(@event.EventId, StringComparer.Ordinal))
        {
            // The identical state instance: nothing to save, nothing to send.
            return new Transition(state, [], EventDisposition.Ignored(DispositionReason.DuplicateEvent));
        }

        var memory = state.Plan?.Settings.ProcessedEventMemory
            ?? (@event as RegistrationStarted)?.Plan.Settings.ProcessedEventMemory
            ?? OrchestrationSettings.Default.ProcessedEventMemory;
        var ids = state.ProcessedEventIds.Add(@event.EventId);
        if (ids.Length > memory)
        {
            ids = ids.RemoveRange(0, ids.Length - memory);
        }

        var stamp = state.AuditRecordedAt is { } last && last > recordedAt ? last : recordedAt;
        var step = new Step(state with { Version = state.Version + 1, ProcessedEventIds = ids }, @event.At, stamp);
        var disposition = Dispatch(step, @event);
        if (step.State.Plan is not null && @event is not ManifestPublishFailed)
        {
            // Whatever changed the set of available studies, the manifest follows (a failed publication waits for the next change).
            SyncManifest(step);
        }

        step.State = step.State with { Status = DeriveStatus(step.State) };
        return new Transition(step.State, [.. step.Commands], disposition);
    }

    /// <summary>Applies events in order, collecting every command (replay, tests).</summary>
    public static (RegistrationState State, ImmutableArray<OrchestrationCommand> Commands) Replay(RegistrationState state, IEnumerable<OrchestrationEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var commands = ImmutableArray.CreateBuilder<OrchestrationCommand>();
        foreach (var @event in events)
        {
            var transition = Apply(state, @event);
            state = transition.State;
            commands.AddRange(transition.Commands);
        }

        return (state, commands.ToImmutable());
    }

    private static EventDisposition Dispatch(Step step, OrchestrationEvent @event)
    {
        if (@event is RegistrationStarted started)
        {
            return Start(step, started);
        }

        if (step.State.Plan is null)
        {
            return EventDisposition.Ignored(DispositionReason.NotStarted);
        }

        // Outcomes of work already sent out are facts to record, even once the registration is purged.
        switch (@event)
        {
            case RemovalCompleted e:
                return OnRemovalCompleted(step, e);
            case RemovalFailed e:
                return OnRemovalFailed(step, e);
            case ExpertiseEmailSent e:
                return OnExpertiseEmailSent(step, e);
            case ExpertiseEmailFailed e:
                return OnExpertiseEmailFailed(step, e);
            case ManifestPublished e:
                return OnManifestPublished(step, e);
            case ManifestPublishFailed e:
                return OnManifestPublishFailed(step, e);
            case StudyTransferSettled e:
                return OnStudyTransferSettled(step, e.Outcome);
        }

        if (step.State.PurgedAt is not null)
        {
            return EventDisposition.Ignored(DispositionReason.RegistrationPurged);
        }

        return @event switch
        {
            FindAttemptStarted e => OnFindAttemptStarted(step, e),
            StudiesFoundAtSite e => OnStudiesFound(step, e),
            SiteSearchFailed e => OnSiteSearchFailed(step, e),
            RelayCommandFailed e => OnRelayCommandFailed(step, e),
            DeliveryProgressed e => OnDeliveryProgressed(step, e),
            DeliveryFinished e => OnDeliveryFinished(step, e),
            DeliveryStopped e => OnDeliveryStopped(step, e.CommandId, e.SiteId, e.ReasonCode, e.Transient, e.SafeMessage),
            SelectionMade e => OnSelection(step, e),
            RefreshRequested e => OnRefresh(step, e),
            StudyDeleteRequested e => OnDelete(step, e),
            ExpertiseRequested e => OnExpertiseRequested(step, e.RequestedBy),
            DurableTimerFired e => OnTimer(step, e),
            _ => EventDisposition.Ignored(DispositionReason.Unknown, $"Event type {@event.GetType().Name} is not handled."),
        };
    }

    // ---------------------------------------------------------------- start, fan-out

    private static EventDisposition Start(Step step, RegistrationStarted started)
    {
        if (step.State.Plan is not null)
        {
            return EventDisposition.Ignored(DispositionReason.AlreadyStarted);
        }

        var plan = started.Plan;
        if (!string.Equals(plan.Registration.Id, step.State.RegistrationId, StringComparison.Ordinal))
        {
            return EventDisposition.Rejected(DispositionReason.WrongRegistration, "The plan is for another registration.");
        }

        step.State = step.State with { Plan = plan, Round = 1, FanInDone = false };
        step.Audit(AuditAction.RegistrationStarted, AuditOutcome.Success, plan.Registration.Requester.Name, null, null, Invariant($"sites={plan.SiteIds.Length}"));
        OpenSearchRound(step);

        step.Emit(new StartDurableTimer(CommandIds.PurgeTimer(step.RegistrationId), step.RegistrationId, plan.PurgeAt, TimerPurpose.Purge));
        if (plan.Registration.ExpertiseRequested)
        {
            OnExpertiseRequested(step, plan.Registration.Requester.Name);
        }

        TryFanIn(step); // No sites at all: fan in at once.
        return EventDisposition.Applied;
    }

    // Every site of the plan is searched again in the round: the orchestration's site searches (one per site and round)
    // ask, wait, retry and give up; this records what they did.
    private static void OpenSearchRound(Step step)
    {
        foreach (var siteId in step.Plan.SiteIds)
        {
            step.PutSite(new SiteSearch(siteId, SiteSearchStatus.Searching, step.State.Round, 0, 0, null, null, 0, 0, 0, NearMissCounts.Zero));
        }
    }

    /// <summary>Causes of a failed FindStudies that asking the site again may cure (the PACS or the relay back).</summary>
    public static bool IsTransientFindFailure(FailureReason reason) => reason is FailureReason.Timeout or FailureReason.PacsUnreachable or FailureReason.Internal;

    private static EventDisposition OnFindAttemptStarted(Step step, FindAttemptStarted e)
    {
        var site = step.State.SiteOf(e.SiteId);
        if (site is null)
        {
            return EventDisposition.Ignored(DispositionReason.Unknown, "Unknown site.");
        }

        if (e.Round != step.State.Round || e.Attempt <= site.Attempt || site.Status is SiteSearchStatus.Searched or SiteSearchStatus.Failed)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "An attempt of another round, an earlier attempt, or a site already settled this round.");
        }

        var plan = step.Plan;
        var (from, to) = plan.Filter.Date.RangeFor(plan.MeetingDate);
        var patient = plan.Registration.Patient;

        // Broad keys only (birth date + sex): strict matching happens here, after normalisation.
        step.Emit(new FindStudiesActivity(CommandIds.Find(step.RegistrationId, site.SiteId, e.Round, e.Attempt), step.RegistrationId, site.SiteId, new PatientQueryKeys(patient.BirthDate, patient.SexCode), plan.Filter.Modalities, from, to));
        step.PutSite(site with { Status = SiteSearchStatus.Searching, Attempt = e.Attempt, AttemptsInBurst = e.AttemptsInBurst, LastFailure = e.PreviousFailure ?? site.LastFailure, NextAttemptAt = null });
        return EventDisposition.Applied;
    }

    // ---------------------------------------------------------------- find results, fan-in

    private static EventDisposition OnStudiesFound(Step step, StudiesFoundAtSite e)
    {
        var site = step.State.SiteOf(e.SiteId);
        if (site is null)
        {
            return EventDisposition.Ignored(DispositionReason.Unknown, "Unknown site.");
        }

        if (!IsFindOfCurrentRound(step, site, e.CommandId))
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Answers a find of another round or an unknown command.");
        }

        if (site.Status == SiteSearchStatus.Searched)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "The site already answered this round.");
        }

        var plan = step.Plan;
        int matched = 0, filteredOut = 0;
        var nearMisses = NearMissCounts.Zero;
        foreach (var study in e.Studies ?? [])
        {
            if (study?.Patient is null || string.IsNullOrWhiteSpace(study.StudyInstanceUid))
            {
                continue; // Nothing we could ever retrieve; counted in StudiesReturned only.
            }

            var comparison = IdentityMatcher.Compare(plan.Registration.Patient, study.Patient);
            if (comparison.Verdict == IdentityVerdict.NearMiss)
            {
                nearMisses = nearMisses.Add(comparison.NearMiss!.Value);
                continue;
            }

            if (comparison.Verdict != IdentityVerdict.Match)
            {
                continue;
            }

            matched++;
            if (!StudyFilter.Passes(study, plan.Filter, plan.MeetingDate))
            {
                filteredOut++;
                continue;
            }

            step.State = step.State with { Candidates = CandidateList.Add(step.State.Candidates, CandidateStudy.From(site.SiteId, study)) };
        }

        var returned = e.Studies?.Count ?? 0;
        step.PutSite(site with
        {
            Status = SiteSearchStatus.Searched,
            LastFailure = null,
            NextAttemptAt = null,
            AnsweredAt = e.At,
            StudiesReturned = returned,
            Matched = matched,
            FilteredOut = filteredOut,
            NearMisses = nearMisses,
        });
        step.Audit(AuditAction.SiteSearched, AuditOutcome.Success, null, site.SiteId, null, Invariant($"returned={returned} matched={matched} filteredOut={filteredOut} nearMisses={nearMisses.Total}"));
        TryFanIn(step);
        return EventDisposition.Applied;
    }

    private static bool IsFindOfCurrentRound(Step step, SiteSearch site, string commandId)
    {
        if (site.Round != step.State.Round)
        {
            return false;
        }

        for (var attempt = 1; attempt <= site.Attempt; attempt++)
        {
            if (string.Equals(CommandIds.Find(step.RegistrationId, site.SiteId, site.Round, attempt), commandId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static void TryFanIn(Step step)
    {
        if (!step.State.FanInDone && !step.State.Sites.Any(s => s.Status == SiteSearchStatus.Searching))
        {
            step.State = step.State with { FanInDone = true };
            var answered = step.State.Sites.Count(s => s.Status == SiteSearchStatus.Searched);
            step.Audit(AuditAction.CandidatesReady, AuditOutcome.Success, null, null, null, Invariant($"candidates={step.State.Candidates.Length} sitesAnswered={answered} sites={step.State.Sites.Length}"));
        }

        if (step.State.FanInDone)
        {
            AutoSelect(step);
        }
    }

    // ---------------------------------------------------------------- failures, timeouts, retries

    private static EventDisposition OnRelayCommandFailed(Step step, RelayCommandFailed e)
    {
        // A failed FindStudies is its site search's to judge (it records SiteSearchFailed or asks again); a delivery's is ours.
        if (step.State.Deliveries.Any(d => d.Status == DeliveryStatus.Delivering && string.Equals(d.CurrentCommandId, e.CommandId, StringComparison.Ordinal)))
        {
            return OnDeliveryStopped(step, e.CommandId, e.SiteId, RelayFailures.CodeOf(e.Reason), RelayFailures.IsTransient(e.Reason), e.SafeMessage);
        }

        return EventDisposition.Ignored(DispositionReason.Stale, "The failed command is not in flight (superseded, settled, unknown, or a search's).");
    }

    private static EventDisposition OnSiteSearchFailed(Step step, SiteSearchFailed e)
    {
        var site = step.State.SiteOf(e.SiteId);
        if (site is null)
        {
            return EventDisposition.Ignored(DispositionReason.Unknown, "Unknown site.");
        }

        if (e.Round != step.State.Round || e.Attempt != site.Attempt || site.Status != SiteSearchStatus.Searching)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Not the attempt in flight this round.");
        }

        if (e.RetryAt is not null)
        {
            step.PutSite(site with { Status = SiteSearchStatus.Unreachable, LastFailure = e.Reason, NextAttemptAt = e.RetryAt });
            step.Audit(AuditAction.SiteUnreachable, AuditOutcome.MinorFailure, null, site.SiteId, null, Invariant($"reason={e.Reason} attempts={site.Attempt}"));
        }
        else
        {
            step.PutSite(site with { Status = SiteSearchStatus.Failed, LastFailure = e.Reason });
            var why = IsTransientFindFailure(e.Reason) ? "unreachable until the meeting" : "permanent failure";
            step.Audit(AuditAction.SiteFailed, AuditOutcome.SeriousFailure, null, site.SiteId, null, Invariant($"reason={e.Reason} attempts={site.Attempt} ({why})"));
        }

        TryFanIn(step);
        return EventDisposition.Applied;
    }

    private static EventDisposition OnTimer(Step step, DurableTimerFired e)
    {
        if (string.Equals(e.TimerId, CommandIds.PurgeTimer(step.RegistrationId), StringComparison.Ordinal))
        {
            Purge(step);
            return EventDisposition.Applied;
        }

        var delivery = step.State.Deliveries.FirstOrDefault(d => d.Status == DeliveryStatus.WaitingForRetry && string.Equals(d.RetryTimerId, e.TimerId, StringComparison.Ordinal));
        if (delivery is not null)
        {
            StartDelivery(step, delivery with { Round = delivery.Round + 1 });
            return EventDisposition.Applied;
        }

        return EventDisposition.Ignored(DispositionReason.Stale, "The timer no longer guards anything (answered, superseded or unknown).");
    }

    // ---------------------------------------------------------------- selection, retrieval, store

    private static EventDisposition OnSelection(Step step, SelectionMade e)
    {
        var requested = (e.StudyInstanceUids ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var unknown = requested.Count(uid => CandidateList.Find(step.State.Candidates, uid) is null);
        if (unknown > 0)
        {
            // All or nothing: a selection naming a study we never offered is refused whole.
            step.Audit(AuditAction.SelectionRejected, AuditOutcome.MinorFailure, e.SelectedBy, null, null, Invariant($"unknownStudies={unknown}"));
            return EventDisposition.Rejected(DispositionReason.UnknownStudy, Invariant($"{unknown} selected study(ies) are not candidates."));
        }

        step.Audit(AuditAction.SelectionMade, AuditOutcome.Success, e.SelectedBy, null, null, Invariant($"studies={requested.Count}"));
        foreach (var uid in requested)
        {
            Select(step, uid);
        }

        return EventDisposition.Applied;
    }

    private static void AutoSelect(Step step)
    {
        var policy = step.Plan.AutoSelect;
        IEnumerable<CandidateStudy> chosen = policy.Mode switch
        {
            AutoSelectMode.AllCandidates => step.State.Candidates,
            AutoSelectMode.MostRecent => step.State.Candidates
                .OrderByDescending(c => c.StudyDate ?? DateOnly.MinValue)
                .ThenBy(c => c.StudyInstanceUid, StringComparer.Ordinal)
                .Take(policy.MaxStudies),
            _ => [],
        };
        var fresh = chosen.Where(c => step.State.SelectedOf(c.StudyInstanceUid) is null).Select(c => c.StudyInstanceUid).Order(StringComparer.Ordinal).ToList();
        if (fresh.Count == 0)
        {
            return;
        }

        step.Audit(AuditAction.SelectionMade, AuditOutcome.Success, "auto-select:" + policy.Mode, null, null, Invariant($"studies={fresh.Count}"));
        foreach (var uid in fresh)
        {
            Select(step, uid);
        }
    }

    private static void Select(Step step, string uid)
    {
        var existing = step.State.SelectedOf(uid);
        if (existing is { Status: StudyStatus.Retrieving, CurrentCommandId: { } transferId })
        {
            // On its way: a transfer waiting for its next round starts it now (one retrieving ignores this).
            step.Emit(new RetryStudyTransferNow(CommandIds.RetryNow(transferId, step.State.Version), step.RegistrationId, transferId));
            return;
        }

        if (existing is not null && existing.Status is not (StudyStatus.Deleted or StudyStatus.Failed))
        {
            return; // Available: selecting again changes nothing.
        }

        var study = existing is null
            ? new SelectedStudy(uid, StudyStatus.Pending, null, 0, null, 0, 0, 0, 0, null) { RetrievalRound = 1 }
            : existing with { Status = StudyStatus.Pending, Failure = null, CurrentCommandId = null, RetrievalRound = 1, NextAttemptAt = null };
        StartTransfer(step, study);
    }

    // Hands the study to a new transfer (a sub-orchestration) over every site holding it, those that answered this round
    // first; with no site left to ask, the study fails at once.
    private static void StartTransfer(Step step, SelectedStudy study)
    {
        var candidate = CandidateList.Find(step.State.Candidates, study.StudyInstanceUid);
        ImmutableArray<string> sites = candidate is null ? [] : [.. candidate.SiteIds
            .OrderBy(s => step.State.SiteOf(s)?.Status == SiteSearchStatus.Searched ? 0 : 1)
            .ThenBy(s => s, StringComparer.Ordinal)];
        if (sites.IsEmpty)
        {
            var failure = new StudyFailure("no_source", "No site holding the study is left to try.");
            step.PutStudy(study with { Status = StudyStatus.Failed, CurrentCommandId = null, Failure = failure });
            step.Audit(AuditAction.StudyFailed, AuditOutcome.SeriousFailure, null, study.SiteId, study.StudyInstanceUid, failure.Code);
            return;
        }

        var plan = step.Plan;
        var transfer = study.Attempt + 1;
        var transferId = CommandIds.StudyTransfer(step.RegistrationId, study.StudyInstanceUid, transfer);
        step.Emit(new StartStudyTransfer(transferId, step.RegistrationId, new StudyTransferInput(
            transferId, step.RegistrationId, study.StudyInstanceUid, sites, plan.Registration.Patient, plan.PatientKey, plan.Settings.MaxRetrievalRounds, plan.Settings.RetrievalRetryInterval)));
        step.PutStudy(study with
        {
            Status = StudyStatus.Retrieving,
            SiteId = sites[0],
            Attempt = transfer,
            CurrentCommandId = transferId,
            InstancesDone = 0,
            InstancesTotal = 0,
            BytesDone = 0,
            Failure = null,
            RetrievalRound = 1,
        });
    }

    // The transfer reports how it ended (it audited its own steps). A transfer that reports after its study was deleted
    // or purged, having stored (or maybe stored) into the DICOM service after the removal ran, gets the study removed once more.
    private static EventDisposition OnStudyTransferSettled(Step step, StudyTransferOutcome outcome)
    {
        // Facts of the transfer's own trail, whatever the registration makes of the outcome.
        foreach (var record in outcome.ClosingAudit ?? [])
        {
            step.Emit(record);
        }

        if (step.State.SelectedOf(outcome.StudyInstanceUid) is not { } study)
        {
            return EventDisposition.Ignored(DispositionReason.UnknownStudy);
        }

        if (study.Status is StudyStatus.Deleted or StudyStatus.Purged)
        {
            return RemoveAgainAfterLateStore(step, study, outcome)
                ? EventDisposition.Applied
                : EventDisposition.Ignored(DispositionReason.Stale, "A transfer of a removed study that stored nothing after the removal.");
        }

        if (step.State.PurgedAt is not null)
        {
            return EventDisposition.Ignored(DispositionReason.RegistrationPurged);
        }

        if (study.Status != StudyStatus.Retrieving || !string.Equals(study.CurrentCommandId, outcome.TransferId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Outcome of a transfer that is no longer current.");
        }

        switch (outcome.Result)
        {
            case StudyTransferResult.Available:
                step.PutStudy(study with
                {
                    Status = StudyStatus.Available,
                    SiteId = outcome.SiteId ?? study.SiteId,
                    CurrentCommandId = null,
                    InstancesDone = outcome.InstancesStored,
                    InstancesTotal = outcome.InstancesStored,
                    InstancesStored = outcome.InstancesStored,
                    Failure = null,
                });
                if (step.Plan.Delivery is not null)
                {
                    StartDelivery(step, NewDelivery(step, study.StudyInstanceUid, isManifest: false, [], outcome.InstancesStored));
                }

                if (step.State.Expertise == ExpertiseStatus.Pending)
                {
                    SendExpertiseEmail(step);
                }

                break;
            default:
                // A transfer is cancelled only by the registration, which marks the study deleted or purged first.
                var failure = outcome.Failure ?? new StudyFailure("transfer_failed", "The transfer ended without making the study available.");
                step.PutStudy(study with { Status = StudyStatus.Failed, SiteId = outcome.SiteId ?? study.SiteId, CurrentCommandId = null, Failure = failure });
                break;
        }

        return EventDisposition.Applied;
    }

    private static bool RemoveAgainAfterLateStore(Step step, SelectedStudy study, StudyTransferOutcome outcome)
    {
        // Any of the study's transfers counts, not only the latest: one cancelled by a first deletion may report after the
        // study was selected again and deleted again.
        var storedAfterRemoval = outcome.Result == StudyTransferResult.Available || outcome.MayHaveStored;
        if (!storedAfterRemoval
            || CommandIds.TransferNumber(step.RegistrationId, study.StudyInstanceUid, outcome.TransferId) is not { } transfer
            || transfer > study.Attempt)
        {
            return false;
        }

        var commandId = CommandIds.DeleteAfterLateStore(step.RegistrationId, study.StudyInstanceUid, transfer);
        if (step.State.PendingRemovals.Any(r => string.Equals(r.CommandId, commandId, StringComparison.Ordinal)))
        {
            return false;
        }

        step.Emit(new DeleteStudyActivity(commandId, step.RegistrationId, study.StudyInstanceUid, CommandIds.StagingPrefix(step.RegistrationId, study.StudyInstanceUid)));
        step.PutRemoval(new PendingRemoval(commandId, IsPurge: false, [study.StudyInstanceUid], study.SiteId, RequestedBy: null));
        step.Audit(AuditAction.StudyDeletionStarted, AuditOutcome.Success, null, study.SiteId, study.StudyInstanceUid, "The transfer stored, or may have, after the removal; removal from the DICOM service and staging sent again.");
        return true;
    }

    // ---------------------------------------------------------------- delete, refresh, expertise, purge

    private static EventDisposition OnDelete(Step step, StudyDeleteRequested e)
    {
        var study = step.State.SelectedOf(e.StudyInstanceUid);
        if (study is null)
        {
            return EventDisposition.Rejected(DispositionReason.UnknownStudy, "The study was never selected.");
        }

        if (study.Status is StudyStatus.Deleted or StudyStatus.Purged)
        {
            return EventDisposition.Ignored(DispositionReason.NothingToDo, "Already deleted.");
        }

        CancelTransfer(step, study);
        CancelDelivery(step, study.StudyInstanceUid, e.RequestedBy);

        // Always delete: staging may hold a partial retrieval even when the DICOM service holds nothing.
        var commandId = CommandIds.Delete(step.RegistrationId, study.StudyInstanceUid, study.Attempt);
        step.Emit(new DeleteStudyActivity(commandId, step.RegistrationId, study.StudyInstanceUid, CommandIds.StagingPrefix(step.RegistrationId, study.StudyInstanceUid)));
        step.PutStudy(study with { Status = StudyStatus.Deleted, CurrentCommandId = null, NextAttemptAt = null });
        step.PutRemoval(new PendingRemoval(commandId, IsPurge: false, [study.StudyInstanceUid], study.SiteId, e.RequestedBy));
        step.Audit(AuditAction.StudyDeletionStarted, AuditOutcome.Success, e.RequestedBy, study.SiteId, study.StudyInstanceUid, "Deletion requested; removal from the DICOM service and staging sent.");
        return EventDisposition.Applied;
    }

    // A study in transfer: its sub-orchestration cancels the retrieval and reports how it ended (StudyTransferSettled).
    private static void CancelTransfer(Step step, SelectedStudy study)
    {
        if (study.Status == StudyStatus.Retrieving && study.CurrentCommandId is { } transferId)
        {
            step.Emit(new CancelStudyTransfer(CommandIds.Cancel(transferId), step.RegistrationId, transferId));
        }
    }

    private static EventDisposition OnRefresh(Step step, RefreshRequested e)
    {
        var round = step.State.Round + 1;
        step.State = step.State with { Round = round, FanInDone = false };
        step.Audit(AuditAction.Refreshed, AuditOutcome.Success, e.RequestedBy, null, null, Invariant($"round={round}"));
        OpenSearchRound(step);

        TryFanIn(step);
        return EventDisposition.Applied;
    }

    private static EventDisposition OnExpertiseRequested(Step step, string requestedBy)
    {
        if (step.State.Expertise != ExpertiseStatus.NotRequested)
        {
            return EventDisposition.Ignored(DispositionReason.NothingToDo, "Expertise already requested.");
        }

        if (step.Plan.ExpertiseRecipients.IsDefaultOrEmpty)
        {
            step.Audit(AuditAction.ExpertiseRejected, AuditOutcome.MinorFailure, requestedBy, null, null, "The meeting has no on-call radiologist or nuclear-medicine physician.");
            return EventDisposition.Rejected(DispositionReason.NoRecipients, "The meeting has no on-call physician.");
        }

        step.State = step.State with { Expertise = ExpertiseStatus.Pending };
        if (step.State.Selected.Any(s => s.Status == StudyStatus.Available))
        {
            SendExpertiseEmail(step);
        }

        return EventDisposition.Applied;
    }

    // The e-mail says studies are available, so it leaves with the first available study. It is audited when the
    // e-mail activity reports what the SMTP relay did (ExpertiseEmailSent / ExpertiseEmailFailed), not here.
    private static void SendExpertiseEmail(Step step)
    {
        var plan = step.Plan;
        var available = step.State.Selected.Count(s => s.Status == StudyStatus.Available);
        step.Emit(new SendExpertiseEmailActivity(CommandIds.ExpertiseEmail(step.RegistrationId), step.RegistrationId, plan.MeetingId, plan.MeetingTitle, plan.MeetingStartsAt, plan.ExpertiseRecipients, plan.Registration.Requester.Name, available));
        step.State = step.State with { Expertise = ExpertiseStatus.Sending };
    }

    private static EventDisposition OnExpertiseEmailSent(Step step, ExpertiseEmailSent e) =>
        ExpertiseEmailSettled(step, e.CommandId, e.MessageId, ExpertiseStatus.Sent, AuditAction.ExpertiseSent, AuditOutcome.Success, Invariant($"Accepted by the SMTP relay for {step.Plan.ExpertiseRecipients.Length} recipient(s)."));

    private static EventDisposition OnExpertiseEmailFailed(Step step, ExpertiseEmailFailed e) =>
        ExpertiseEmailSettled(step, e.CommandId, e.MessageId, ExpertiseStatus.Failed, AuditAction.ExpertiseFailed, AuditOutcome.SeriousFailure, e.ReasonCode + ": " + Truncate(e.SafeMessage));

    // One outcome per e-mail: the first report settles it, a later one (a re-run activity) is stale.
    private static EventDisposition ExpertiseEmailSettled(Step step, string commandId, string messageId, ExpertiseStatus status, AuditAction action, AuditOutcome outcome, string detail)
    {
        if (!IsExpertiseEmailInFlight(step, commandId))
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "No expertise e-mail is waiting for its outcome.");
        }

        var recipients = step.Plan.ExpertiseRecipients;
        step.State = step.State with { Expertise = status };
        step.Audit(action, outcome, null, null, null, detail, record => record with { MessageId = messageId, Recipients = [.. recipients.Select(r => r.Email)] });
        return EventDisposition.Applied;
    }

    private static bool IsExpertiseEmailInFlight(Step step, string commandId) =>
        step.State.Expertise == ExpertiseStatus.Sending && string.Equals(commandId, CommandIds.ExpertiseEmail(step.RegistrationId), StringComparison.Ordinal);

    private static void Purge(Step step)
    {
        var purged = ImmutableArray.CreateBuilder<string>();
        foreach (var study in step.State.Selected)
        {
            CancelTransfer(step, study);
            if (study.Status != StudyStatus.Deleted)
            {
                purged.Add(study.StudyInstanceUid);
                step.PutStudy(study with { Status = StudyStatus.Purged, CurrentCommandId = null, NextAttemptAt = null });
            }
        }

        foreach (var delivery in step.State.Deliveries.Where(d => d.IsActive))
        {
            CancelDelivery(step, delivery.StudyInstanceUid, null);
        }

        var studies = purged.ToImmutable();
        step.Emit(new PurgeStudiesActivity(CommandIds.Purge(step.RegistrationId), step.RegistrationId, studies, CommandIds.StagingRoot(step.RegistrationId)));
        step.State = step.State with { PurgedAt = step.Now };
        step.PutRemoval(new PendingRemoval(CommandIds.Purge(step.RegistrationId), IsPurge: true, studies, null, null));
        step.Audit(
            AuditAction.PurgeStarted, AuditOutcome.Success, null, null, null, Invariant($"studies={studies.Length}; retention ended, removal sent."),
            record => record with { StudyInstanceUids = studies });
    }

    // ---------------------------------------------------------------- removal outcomes (delete, purge)

    private static EventDisposition OnRemovalCompleted(Step step, RemovalCompleted e)
    {
        if (step.TakeRemoval(e.CommandId) is not { } removal)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "No removal with this command id is waiting for its outcome.");
        }

        if (removal.IsPurge)
        {
            step.Audit(
                AuditAction.Purged, AuditOutcome.Success, null, null, null, Invariant($"studies={removal.StudyInstanceUids.Length} stagingBlobs={e.StagingBlobsDeleted}"),
                record => record with { StudyInstanceUids = removal.StudyInstanceUids });
        }
        else
        {
            step.Audit(AuditAction.StudyDeleted, AuditOutcome.Success, removal.RequestedBy, removal.SiteId, removal.StudyInstanceUids.FirstOrDefault(), Invariant($"Removed from the DICOM service; stagingBlobs={e.StagingBlobsDeleted}."));
        }

        return EventDisposition.Applied;
    }

    private static EventDisposition OnRemovalFailed(Step step, RemovalFailed e)
    {
        if (step.TakeRemoval(e.CommandId) is not { } removal)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "No removal with this command id is waiting for its outcome.");
        }

        var detail = e.ReasonCode + ": " + Truncate(e.SafeMessage);
        if (removal.IsPurge)
        {
            step.Audit(AuditAction.PurgeFailed, AuditOutcome.SeriousFailure, null, null, null, detail, record => record with { StudyInstanceUids = removal.StudyInstanceUids });
            return EventDisposition.Applied;
        }

        var uid = removal.StudyInstanceUids.FirstOrDefault();
        if (uid is not null && step.State.SelectedOf(uid) is { Status: StudyStatus.Deleted } study)
        {
            step.PutStudy(study with { Failure = new StudyFailure("removal_failed", Truncate(e.SafeMessage)) });
        }

        step.Audit(AuditAction.StudyDeletionFailed, AuditOutcome.SeriousFailure, removal.RequestedBy, removal.SiteId, uid, detail);
        return EventDisposition.Applied;
    }

    // ---------------------------------------------------------------- delivery to the meeting's destination

    private static StudyDelivery NewDelivery(Step step, string studyInstanceUid, bool isManifest, ImmutableArray<string> expected, int? expectedCount)
    {
        var previous = step.State.DeliveryOf(studyInstanceUid);
        return new StudyDelivery(studyInstanceUid, isManifest, DeliveryStatus.Delivering, previous?.Attempt ?? 0, null, expected, expectedCount, 0, 0, null);
    }

    // Sends the next attempt of a delivery to the destination site's relay.
    private static void StartDelivery(Step step, StudyDelivery delivery)
    {
        var target = step.Plan.Delivery!;
        var attempt = delivery.Attempt + 1;
        var commandId = CommandIds.Deliver(step.RegistrationId, delivery.StudyInstanceUid, attempt);
        step.Emit(new DeliverStudyActivity(commandId, step.RegistrationId, target.SiteId, delivery.StudyInstanceUid, target, delivery.ExpectedSopInstanceUids, delivery.ExpectedInstanceCount));
        step.PutDelivery(delivery with { Status = DeliveryStatus.Delivering, Attempt = attempt, CurrentCommandId = commandId, InstancesDone = 0, RetryTimerId = null, NextAttemptAt = null });
        step.Audit(
            AuditAction.DeliveryStarted, AuditOutcome.Success, null, target.SiteId, delivery.StudyInstanceUid,
            Invariant($"attempt={attempt} round={delivery.Round} destination={target.AeTitle}{(delivery.IsManifest ? " manifest" : string.Empty)}"),
            record => record with { DestinationAeTitle = target.AeTitle });
    }

    // Stops a delivery in flight or due (the study was deleted or purged, or a newer manifest revision replaces it).
    private static void CancelDelivery(Step step, string studyInstanceUid, string? requestedBy, bool audited = true)
    {
        if (step.State.DeliveryOf(studyInstanceUid) is not { IsActive: true } delivery)
        {
            return;
        }

        if (delivery.CurrentCommandId is { } inFlight)
        {
            step.Emit(new CancelRelayCommand(CommandIds.Cancel(inFlight), step.RegistrationId, step.Plan.Delivery!.SiteId, inFlight));
        }

        step.PutDelivery(delivery with { Status = DeliveryStatus.Cancelled, CurrentCommandId = null, RetryTimerId = null, NextAttemptAt = null });
        if (audited)
        {
            step.Audit(AuditAction.DeliveryFailed, AuditOutcome.MinorFailure, requestedBy, step.Plan.Delivery!.SiteId, studyInstanceUid, "cancelled: the study was deleted or purged; what reached the destination stays there.");
        }
    }

    private static StudyDelivery? DeliveryInFlight(Step step, string commandId) =>
        step.State.Deliveries.FirstOrDefault(d => d.Status == DeliveryStatus.Delivering && string.Equals(d.CurrentCommandId, commandId, StringComparison.Ordinal));

    private static EventDisposition OnDeliveryProgressed(Step step, DeliveryProgressed e)
    {
        if (DeliveryInFlight(step, e.CommandId) is not { } delivery)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Progress of a delivery that is no longer in flight.");
        }

        if (!string.Equals(step.Plan.Delivery?.SiteId, e.SiteId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.WrongSite, "Progress from another site than the destination's.");
        }

        if (e.InstancesDone <= delivery.InstancesDone)
        {
            return EventDisposition.Ignored(DispositionReason.OutOfOrder, "Older than the progress already known.");
        }

        step.PutDelivery(delivery with { InstancesDone = e.InstancesDone, InstancesTotal = Math.Max(e.InstancesTotal, e.InstancesDone) });
        return EventDisposition.Applied;
    }

    private static EventDisposition OnDeliveryFinished(Step step, DeliveryFinished e)
    {
        if (DeliveryInFlight(step, e.CommandId) is not { } delivery)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Completion of a delivery that is no longer in flight.");
        }

        var target = step.Plan.Delivery!;
        if (!string.Equals(target.SiteId, e.SiteId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.WrongSite, "Completion from another site than the destination's.");
        }

        step.PutDelivery(delivery with { Status = DeliveryStatus.Delivered, CurrentCommandId = null, InstancesDone = e.InstancesTotal, InstancesTotal = e.InstancesTotal, Failure = null });
        step.Audit(
            AuditAction.DeliveryCompleted, AuditOutcome.Success, null, target.SiteId, delivery.StudyInstanceUid,
            Invariant($"instances={e.InstancesTotal} sentNow={e.InstancesSent} alreadyThere={e.InstancesAlreadyPresent} bytes={e.BytesSent} destination={target.AeTitle}@{target.Host}:{target.Port}{(delivery.IsManifest ? " manifest" : string.Empty)}"),
            record => record with { SourceAeTitle = e.SourceAeTitle, DestinationAeTitle = e.DestinationAeTitle ?? target.AeTitle });
        return EventDisposition.Applied;
    }

    private static EventDisposition OnDeliveryStopped(Step step, string commandId, string siteId, string reasonCode, bool transient, string? safeMessage)
    {
        if (DeliveryInFlight(step, commandId) is not { } delivery)
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "Failure of a delivery that is no longer in flight.");
        }

        var target = step.Plan.Delivery!;
        if (!string.Equals(target.SiteId, siteId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.WrongSite, "Failure from another site than the destination's.");
        }

        var failure = new StudyFailure(reasonCode, Truncate(safeMessage));
        var settings = step.Plan.Settings;
        if (transient && delivery.Round < settings.MaxRetrievalRounds)
        {
            var timerId = CommandIds.DeliverRetry(step.RegistrationId, delivery.StudyInstanceUid, delivery.Attempt);
            var due = step.Now + settings.RetrievalRetryInterval;
            step.Emit(new StartDurableTimer(timerId, step.RegistrationId, due, TimerPurpose.DeliverRetry));
            step.PutDelivery(delivery with { Status = DeliveryStatus.WaitingForRetry, CurrentCommandId = null, Failure = failure, RetryTimerId = timerId, NextAttemptAt = due });
            step.Audit(
                AuditAction.DeliveryRetryScheduled, AuditOutcome.MinorFailure, null, target.SiteId, delivery.StudyInstanceUid,
                // The attempt tells apart two failed attempts of one study in the same second (a new manifest revision
                // restarts its delivery in the same round).
                Invariant($"{reasonCode}: round {delivery.Round + 1} of {settings.MaxRetrievalRounds} at {due.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} after attempt {delivery.Attempt}"),
                record => record with { DestinationAeTitle = target.AeTitle });
            return EventDisposition.Applied;
        }

        step.PutDelivery(delivery with { Status = DeliveryStatus.Failed, CurrentCommandId = null, Failure = failure });
        step.Audit(
            AuditAction.DeliveryFailed, AuditOutcome.SeriousFailure, null, target.SiteId, delivery.StudyInstanceUid,
            Invariant($"{reasonCode}: {(transient ? "still failing after " + delivery.Round.ToString(CultureInfo.InvariantCulture) + " round(s)" : "permanent failure")}"),
            record => record with { DestinationAeTitle = target.AeTitle });
        return EventDisposition.Applied;
    }

    // ---------------------------------------------------------------- imaging manifest

    // Publishes a new revision when the available studies differ from the published (or publishing) ones. One publication
    // at a time: a change while one is under way is published when it reports back, so revisions land in order.
    private static void SyncManifest(Step step)
    {
        var current = step.State.Manifest;
        if (current?.InFlightCommandId is not null)
        {
            return;
        }

        ImmutableArray<string> available = [.. step.State.Selected.Where(s => s.Status == StudyStatus.Available).Select(s => s.StudyInstanceUid)];
        if (current is null ? available.IsEmpty : available.SequenceEqual(current.PublishedStudies, StringComparer.Ordinal))
        {
            return;
        }

        var revision = (current?.Revision ?? 0) + 1;
        var commandId = CommandIds.PublishManifest(step.RegistrationId, revision);
        step.Emit(new PublishManifestActivity(commandId, step.RegistrationId, revision, available, step.Plan.Registration.Patient, step.Plan.MeetingTitle));
        step.State = step.State with
        {
            Manifest = (current ?? new ManifestPublication(0, [], null, null, null, 0, null, null, [])) with { Revision = revision, InFlightCommandId = commandId, InFlightStudies = available },
        };
    }

    private static EventDisposition OnManifestPublished(Step step, ManifestPublished e)
    {
        if (step.State.Manifest is not { } manifest || !string.Equals(manifest.InFlightCommandId, e.CommandId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "No manifest publication with this command id is waiting for its outcome.");
        }

        var withdrawn = e.DocumentUid is null;
        step.State = step.State with
        {
            Manifest = manifest with
            {
                PublishedStudies = withdrawn ? [] : manifest.InFlightStudies,
                StudyInstanceUid = e.StudyInstanceUid ?? manifest.StudyInstanceUid,
                SeriesInstanceUid = e.SeriesInstanceUid ?? manifest.SeriesInstanceUid,
                DocumentUid = e.DocumentUid,
                InstancesListed = e.InstancesListed,
                PublishedAt = e.At,
                InFlightCommandId = null,
                InFlightStudies = [],
            },
        };
        if (withdrawn)
        {
            step.Audit(AuditAction.ManifestWithdrawn, AuditOutcome.Success, null, null, null, Invariant($"revision={manifest.Revision}; no study available, manifest removed from the DICOM service."));
        }
        else
        {
            step.Audit(
                AuditAction.ManifestPublished, AuditOutcome.Success, null, null, e.StudyInstanceUid, Invariant($"revision={manifest.Revision} studies={manifest.InFlightStudies.Length} instances={e.InstancesListed} document={e.DocumentUid}"),
                record => record with { StudyInstanceUids = manifest.InFlightStudies });
            if (step.Plan.Delivery is not null && step.State.PurgedAt is null && e.StudyInstanceUid is { } manifestStudy)
            {
                // Each revision goes to the destination too (the older ones stay there: the destination is not ours to delete in).
                CancelDelivery(step, manifestStudy, null, audited: false);
                StartDelivery(step, NewDelivery(step, manifestStudy, isManifest: true, [e.DocumentUid!], 1));
            }
        }

        return EventDisposition.Applied;
    }

    private static EventDisposition OnManifestPublishFailed(Step step, ManifestPublishFailed e)
    {
        if (step.State.Manifest is not { } manifest || !string.Equals(manifest.InFlightCommandId, e.CommandId, StringComparison.Ordinal))
        {
            return EventDisposition.Ignored(DispositionReason.Stale, "No manifest publication with this command id is waiting for its outcome.");
        }

        step.State = step.State with { Manifest = manifest with { InFlightCommandId = null, InFlightStudies = [] } };
        step.Audit(AuditAction.ManifestPublishFailed, AuditOutcome.SeriousFailure, null, null, manifest.StudyInstanceUid, Invariant($"revision={manifest.Revision} ") + e.ReasonCode + ": " + Truncate(e.SafeMessage));
        return EventDisposition.Applied;
    }

    // ---------------------------------------------------------------- status

    /// <summary>The instance status implied by a state (see README.md for the precedence).</summary>
    public static RegistrationStatus DeriveStatus(RegistrationState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.PurgedAt is not null)
        {
            return RegistrationStatus.Purged;
        }

        if (state.Plan is null)
        {
            return RegistrationStatus.Pending;
        }

        if (state.Selected.Any(s => !s.IsSettled) || state.Deliveries.Any(d => d.IsActive))
        {
            return RegistrationStatus.Retrieving;
        }

        if (!state.FanInDone)
        {
            return RegistrationStatus.Running;
        }

        if (!state.Selected.IsEmpty)
        {
            return RegistrationStatus.Completed;
        }

        return state.Candidates.IsEmpty && state.Sites.All(s => s.Status == SiteSearchStatus.Failed)
            ? RegistrationStatus.Failed
            : RegistrationStatus.WaitingForSelection;
    }

    private static string Truncate(string? message) => StudyFailure.SafeText(message);

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The mutable scratchpad of one transition.</summary>
    private sealed class Step(RegistrationState state, DateTimeOffset now, DateTimeOffset recordedAt)
    {
        private int auditIndex;

        public RegistrationState State { get; set; } = state;

        public DateTimeOffset Now { get; } = now;

        /// <summary>The recorded-at time of this step's audit records.</summary>
        public DateTimeOffset RecordedAt { get; } = recordedAt;

        public List<OrchestrationCommand> Commands { get; } = [];

        public string RegistrationId => State.RegistrationId;

        public RegistrationPlan Plan => State.Plan ?? throw new InvalidOperationException("Not started.");

        public void Emit(OrchestrationCommand command) => Commands.Add(command);

        // Numbers the record (the state keeps the last number, checkpointed with the orchestration) and stamps it.
        public void Audit(AuditAction action, AuditOutcome outcome, string? actor, string? siteId, string? studyUid, string detail, Func<WriteAuditActivity, WriteAuditActivity>? extra = null)
        {
            var record = new WriteAuditActivity(CommandIds.Audit(RegistrationId, State.Version, auditIndex++), RegistrationId, Now, action, outcome, Plan.PatientKey, actor, siteId, studyUid, detail)
            {
                Sequence = State.AuditSequence + 1,
                RecordedAt = RecordedAt,
            };
            State = State with { AuditSequence = record.Sequence, AuditRecordedAt = RecordedAt };
            Emit(extra is null ? record : extra(record));
        }

        public void PutRemoval(PendingRemoval removal) => State = State with { PendingRemovals = Upsert(State.PendingRemovals, removal, r => r.CommandId) };

        public PendingRemoval? TakeRemoval(string commandId)
        {
            var removal = State.PendingRemovals.FirstOrDefault(r => string.Equals(r.CommandId, commandId, StringComparison.Ordinal));
            if (removal is not null)
            {
                State = State with { PendingRemovals = State.PendingRemovals.Remove(removal) };
            }

            return removal;
        }

        public void PutSite(SiteSearch site) => State = State with { Sites = Upsert(State.Sites, site, s => s.SiteId) };

        public void PutStudy(SelectedStudy study) => State = State with { Selected = Upsert(State.Selected, study, s => s.StudyInstanceUid) };

        public void PutDelivery(StudyDelivery delivery) => State = State with { Deliveries = Upsert(State.Deliveries, delivery, d => d.StudyInstanceUid) };

        private static ImmutableArray<T> Upsert<T>(ImmutableArray<T> items, T item, Func<T, string> key)
        {
            var id = key(item);
            for (var i = 0; i < items.Length; i++)
            {
                var order = string.CompareOrdinal(key(items[i]), id);
                if (order == 0)
                {
                    return items.SetItem(i, item);
                }

                if (order > 0)
                {
                    return items.Insert(i, item);
                }
            }

            return items.Add(item);
        }
    }
}
