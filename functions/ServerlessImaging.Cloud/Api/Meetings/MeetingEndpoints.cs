using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Api.Meetings;

/// <summary>
/// Body of <c>PUT /meetings/{meetingId}</c>: a meeting's settings (the id is the path's). <c>deliveryDestination</c> is
/// optional: the site (one of <c>Sites__Ids</c>), AE title, host and port of the meeting site's PACS or reading console the
/// selected studies are also delivered to through that site's relay.
/// </summary>
public sealed record MeetingBody(
    string Title,
    DateTimeOffset StartsAt,
    string Site,
    int Capacity,
    ImagingFilter DefaultFilter,
    Physician? OnCallRadiologist,
    Physician? OnCallNuclearPhysician,
    AutoSelectPolicy AutoSelect,
    int RetentionDays,
    MeetingDestination? DeliveryDestination = null)
{
    /// <summary>The meeting with id <paramref name="id"/>.</summary>
    public Meeting ToMeeting(string id) => new(id, Title, StartsAt, Site, Capacity, DefaultFilter, OnCallRadiologist, OnCallNuclearPhysician, AutoSelect, RetentionDays, DeliveryDestination);

    /// <summary>The body form of a meeting.</summary>
    public static MeetingBody From(Meeting meeting)
    {
        ArgumentNullException.ThrowIfNull(meeting);
        return new(meeting.Title, meeting.StartsAt, meeting.Site, meeting.Capacity, meeting.DefaultFilter, meeting.OnCallRadiologist, meeting.OnCallNuclearPhysician, meeting.AutoSelect, meeting.RetentionDays, meeting.DeliveryDestination);
    }
}

/// <summary>A meeting as returned: its id, its settings and its ETag.</summary>
public sealed record MeetingResource(string Id, MeetingBody Settings, string ETag);

/// <summary>Coordinator endpoints: meeting settings.</summary>
public static class MeetingEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/meetings").WithTags("Meetings").RequireAuthorization(ApiRoles.Policy(ApiRoles.Coordinator));

        group.MapPut("/{meetingId}", PutAsync)
            .WithName("PutMeeting")
            .WithMetadata(new AuditedAs(AuditEventIds.ApplicationActivity, AuditActionCodes.Update, "MeetingSaved"))
            .Accepts<MeetingBody>("application/json")
            .Produces<MeetingResource>()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        group.MapGet("/{meetingId}", GetAsync)
            .WithName("GetMeeting")
            .WithMetadata(new AuditedAs(AuditEventIds.ApplicationActivity, AuditActionCodes.Read, "MeetingRead"))
            .Produces<MeetingResource>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> PutAsync(string meetingId, HttpContext context, IMeetingStore meetings, TimeProvider time, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var body = await JsonBodyReader.ReadAsync<MeetingBody>(context.Request, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var meeting = body.Value!.ToMeeting(meetingId);
        var errors = meeting.Validate(time.GetUtcNow(), ConfiguredSiteIds(configuration));
        if (errors.Count > 0)
        {
            return ApiProblems.Validation(errors);
        }

        var ifMatch = context.Request.Headers.IfMatch.ToString();
        try
        {
            var etag = await meetings.UpsertAsync(meeting, string.IsNullOrEmpty(ifMatch) ? null : ifMatch, cancellationToken);
            context.Response.Headers.ETag = etag;
            return new ApiValueResult(StatusCodes.Status200OK, new MeetingResource(meetingId, MeetingBody.From(meeting), etag));
        }
        catch (ConcurrencyConflictException)
        {
            return Results.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "The meeting changed since it was read (If-Match).", type: ApiProblems.TypeBase + "precondition-failed");
        }
    }

    /// <summary>The sites of the network (<c>Sites__Ids</c>): a delivery destination must name one of them.</summary>
    private static string[] ConfiguredSiteIds(IConfiguration configuration) =>
        (configuration[CloudAppSettings.SiteIds.Replace("__", ":", StringComparison.Ordinal)] ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<IResult> GetAsync(string meetingId, HttpContext context, IMeetingStore meetings, CancellationToken cancellationToken)
    {
        var stored = await meetings.GetAsync(meetingId, cancellationToken);
        if (stored is null)
        {
            return ApiProblems.NotFound("meeting");
        }

        context.Response.Headers.ETag = stored.ETag;
        // The API's JSON conventions (enums by name, as PUT takes them), not the framework's defaults.
        return new ApiValueResult(StatusCodes.Status200OK, new MeetingResource(meetingId, MeetingBody.From(stored.Meeting), stored.ETag));
    }
}
