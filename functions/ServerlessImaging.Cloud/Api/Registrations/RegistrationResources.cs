using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Api.Registrations;

/// <summary>Body of <c>POST /meetings/{meetingId}/registrations</c>.</summary>
/// <param name="Patient">Strong traits (and INS when known).</param>
/// <param name="Consent">The consent gate: every item must be true.</param>
/// <param name="Requester">The clinician registering the patient.</param>
/// <param name="FilterOverride">Optional override of the meeting's imaging filter.</param>
/// <param name="ExpertiseRequested">"Demande d'expertise" ticked at registration.</param>
public sealed record RegistrationBody(PatientIdentity Patient, Consent Consent, Requester Requester, ImagingFilterOverride? FilterOverride = null, bool ExpertiseRequested = false);

/// <summary>The 202 answer to a registration: where to follow it.</summary>
public sealed record RegistrationAccepted(string RegistrationId, string StatusUrl);

/// <summary>Body of <c>POST /registrations/{registrationId}/selection</c>.</summary>
public sealed record SelectionBody(IReadOnlyList<string> StudyInstanceUids);

/// <summary>The 202 answer to an external event (selection, refresh, deletion, expertise request).</summary>
public sealed record EventAccepted(string RegistrationId, string Disposition, string StatusUrl);

/// <summary>One site's search, as shown to the RCP software.</summary>
public sealed record SiteSearchView(string SiteId, SiteSearchStatus Status, int Round, int Attempt, FailureReason? LastFailure, DateTimeOffset? AnsweredAt, int StudiesReturned, int Matched, int FilteredOut, NearMissCounts NearMisses);

/// <summary>A candidate study.</summary>
public sealed record CandidateView(string StudyInstanceUid, ImmutableArray<string> SiteIds, DateOnly? StudyDate, string? StudyDescription, ImmutableArray<string> Modalities, int? NumberOfSeries, int? NumberOfInstances, bool Selected);

/// <summary>
/// A selected study and its availability. <paramref name="NextAttemptAt"/> is set while the study waits (status
/// <c>Pending</c>) for an automatic retry after a transient failure at every site holding it; <paramref name="Failure"/>
/// is then why the last attempt failed, not a final verdict.
/// </summary>
public sealed record StudyView(string StudyInstanceUid, StudyStatus Status, string? SiteId, int InstancesDone, int InstancesTotal, int InstancesStored, StudyFailure? Failure, Uri? ViewerUrl, DateTimeOffset? NextAttemptAt = null);

/// <summary>
/// <c>GET /registrations/{registrationId}</c>: status per site and per study (with viewer links), candidates.
/// Carries no patient data: the RCP software already has it, and this resource may be cached or logged by proxies.
/// <paramref name="Version"/> grows with every step applied: pass it back as <c>?afterVersion=</c> to wait for the next one.
/// </summary>
public sealed record RegistrationStatusView(
    string RegistrationId,
    string? MeetingId,
    RegistrationStatus Status,
    int Round,
    ExpertiseStatus Expertise,
    DateTimeOffset? PurgedAt,
    IReadOnlyList<SiteSearchView> Sites,
    IReadOnlyList<CandidateView> Candidates,
    IReadOnlyList<StudyView> Studies,
    ManifestView? Manifest = null,
    IReadOnlyList<DeliveryView>? Deliveries = null,
    long Version = 0)
{
    /// <summary>Builds the view; viewer links come from the runtime, or from <paramref name="viewerTemplate"/> (placeholder <c>{StudyInstanceUID}</c>).</summary>
    public static RegistrationStatusView From(RegistrationInstanceStatus instance, string? viewerTemplate)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var state = instance.State;
        Uri? ViewerUrl(SelectedStudy study)
        {
            if (study.Status != StudyStatus.Available)
            {
                return null;
            }

            if (instance.ViewerLinks.TryGetValue(study.StudyInstanceUid, out var link))
            {
                return link;
            }

            return string.IsNullOrWhiteSpace(viewerTemplate)
                ? null
                : new Uri(viewerTemplate.Replace("{StudyInstanceUID}", Uri.EscapeDataString(study.StudyInstanceUid), StringComparison.Ordinal));
        }

        return new RegistrationStatusView(
            state.RegistrationId,
            state.Plan?.MeetingId,
            state.Status,
            state.Round,
            state.Expertise,
            state.PurgedAt,
            [.. state.Sites.Select(s => new SiteSearchView(s.SiteId, s.Status, s.Round, s.Attempt, s.LastFailure, s.AnsweredAt, s.StudiesReturned, s.Matched, s.FilteredOut, s.NearMisses))],
            [.. state.Candidates.Select(c => new CandidateView(c.StudyInstanceUid, c.SiteIds, c.StudyDate, c.StudyDescription, c.Modalities, c.NumberOfSeries, c.NumberOfInstances, state.SelectedOf(c.StudyInstanceUid) is not null))],
            [.. state.Selected.Select(s => new StudyView(s.StudyInstanceUid, s.Status, s.SiteId, s.InstancesDone, s.InstancesTotal, s.InstancesStored, s.Failure, ViewerUrl(s), s.NextAttemptAt))],
            state.Manifest is { } manifest ? new ManifestView(manifest.Revision, manifest.DocumentUid, manifest.InstancesListed, manifest.PublishedAt, manifest.InFlightCommandId is not null) : null,
            [.. state.Deliveries.Select(d => new DeliveryView(d.StudyInstanceUid, d.IsManifest, d.Status, d.InstancesDone, d.InstancesTotal, d.Failure, d.NextAttemptAt))],
            state.Version);
    }
}

/// <summary>The imaging manifest published in the DICOM service (GET …/manifest returns it).</summary>
/// <param name="Revision">The latest revision asked for.</param>
/// <param name="DocumentUid">SOP Instance UID of the published document (null: none yet, or withdrawn).</param>
/// <param name="InstancesListed">Instances the published document lists.</param>
/// <param name="PublishedAt">When the published revision was stored.</param>
/// <param name="Publishing">True while a new revision is being published.</param>
public sealed record ManifestView(int Revision, string? DocumentUid, int InstancesListed, DateTimeOffset? PublishedAt, bool Publishing);

/// <summary>The delivery of a study (or of the imaging manifest) to the meeting's destination PACS.</summary>
/// <param name="StudyInstanceUid">The study delivered.</param>
/// <param name="IsManifest">True for the imaging manifest's own study.</param>
/// <param name="Status">Delivering, WaitingForRetry, Delivered, Failed or Cancelled.</param>
/// <param name="InstancesDone">Instances at the destination so far.</param>
/// <param name="InstancesTotal">Instances to deliver (0 until known).</param>
/// <param name="Failure">Why the last attempt failed, if it did.</param>
/// <param name="NextAttemptAt">When the next attempt starts, while waiting for a retry.</param>
public sealed record DeliveryView(string StudyInstanceUid, bool IsManifest, DeliveryStatus Status, int InstancesDone, int InstancesTotal, StudyFailure? Failure, DateTimeOffset? NextAttemptAt);
