using System.Globalization;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Api.Registrations;

/// <summary>Per-site search progress of a registration, counted.</summary>
/// <param name="Total">Sites searched by the registration.</param>
/// <param name="Searching">Still searching (or waiting for a retry).</param>
/// <param name="Searched">Answered.</param>
/// <param name="Unreachable">Given up on for now (the relay or PACS did not answer).</param>
/// <param name="Failed">Failed for good.</param>
public sealed record SiteSearchCounts(int Total, int Searching, int Searched, int Unreachable, int Failed);

/// <summary>
/// One registration of a meeting, summarised. Like <see cref="RegistrationStatusView"/> it carries no patient data: the
/// RCP software has the patient, and the console opens the registration by its id for the details.
/// </summary>
/// <param name="RegistrationId">The registration.</param>
/// <param name="Status">Its status.</param>
/// <param name="Round">Search round.</param>
/// <param name="Sites">Per-site search progress.</param>
/// <param name="Candidates">Candidate studies found.</param>
/// <param name="StudiesAvailable">Selected studies available in the DICOM service.</param>
/// <param name="StudiesFailed">Selected studies that failed.</param>
/// <param name="StudiesTotal">Selected studies (deleted and purged ones included).</param>
/// <param name="Expertise">Expertise e-mail status.</param>
/// <param name="UpdatedAt">When the registration last changed.</param>
public sealed record MeetingRegistrationSummary(
    string RegistrationId,
    RegistrationStatus Status,
    int Round,
    SiteSearchCounts Sites,
    int Candidates,
    int StudiesAvailable,
    int StudiesFailed,
    int StudiesTotal,
    ExpertiseStatus Expertise,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The summary of a recorded registration.</summary>
    public static MeetingRegistrationSummary From(RecordedRegistration recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var state = recorded.State;
        int Sites(SiteSearchStatus status) => state.Sites.Count(s => s.Status == status);
        return new MeetingRegistrationSummary(
            state.RegistrationId,
            state.Status,
            state.Round,
            new SiteSearchCounts(state.Sites.Length, Sites(SiteSearchStatus.Searching), Sites(SiteSearchStatus.Searched), Sites(SiteSearchStatus.Unreachable), Sites(SiteSearchStatus.Failed)),
            state.Candidates.Length,
            state.Selected.Count(s => s.Status == StudyStatus.Available),
            state.Selected.Count(s => s.Status == StudyStatus.Failed),
            state.Selected.Length,
            state.Expertise,
            recorded.UpdatedAt);
    }
}

/// <summary><c>GET /meetings/{meetingId}/registrations</c>: the meeting's registrations, most recently updated first.</summary>
/// <param name="MeetingId">The meeting.</param>
/// <param name="Registrations">At most <c>limit</c> registrations.</param>
/// <param name="Truncated">True when the meeting has more (ask with a larger <c>limit</c>, up to <see cref="MeetingRegistrationEndpoints.MaxLimit"/>).</param>
public sealed record MeetingRegistrationsView(string MeetingId, IReadOnlyList<MeetingRegistrationSummary> Registrations, bool Truncated);

/// <summary>The registrations of a meeting (registrar and coordinator).</summary>
public static class MeetingRegistrationEndpoints
{
    /// <summary>Registrations returned without a <c>limit</c>: a meeting's usual size (its places default to 20).</summary>
    public const int DefaultLimit = 100;

    /// <summary>Most registrations one call returns (bounded: each is a whole read-model document).</summary>
    public const int MaxLimit = 500;

    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/meetings/{meetingId}/registrations", ListAsync)
            .WithTags("Registrations").WithName("ListMeetingRegistrations")
            .RequireAuthorization(ApiRoles.RegistrarOrCoordinator)
            .WithMetadata(new AuditedAs(AuditEventIds.Query, AuditActionCodes.Read, "MeetingRegistrationsListed"))
            .Produces<MeetingRegistrationsView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAsync(string meetingId, int? limit, HttpContext context, IMeetingStore meetings, IMeetingRegistrationIndex index, CancellationToken cancellationToken)
    {
        if (await meetings.GetAsync(meetingId, cancellationToken) is null)
        {
            context.Audit().Detail = "refused: no such meeting";
            return ApiProblems.NotFound("meeting");
        }

        var found = await index.ListByMeetingAsync(meetingId, Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit), cancellationToken);
        context.Audit().Detail = string.Create(CultureInfo.InvariantCulture, $"meeting {meetingId}: {found.Registrations.Count} registration(s){(found.Truncated ? ", more not listed" : string.Empty)}");
        return new ApiValueResult(StatusCodes.Status200OK, new MeetingRegistrationsView(meetingId, [.. found.Registrations.Select(MeetingRegistrationSummary.From)], found.Truncated));
    }
}
