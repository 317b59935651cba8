using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Api.Sites;

/// <summary>One site's relay health.</summary>
/// <param name="SiteId">The site.</param>
/// <param name="Online">True when a heartbeat arrived within <see cref="SiteEndpoints.OnlineWindow"/>.</param>
/// <param name="LastSeenAt">Last heartbeat (null: never).</param>
/// <param name="RelayVersion">Relay version reported.</param>
/// <param name="PacsEcho">Latest C-ECHO of the site PACS by the relay.</param>
/// <param name="PacsEchoCheckedAt">When it ran.</param>
/// <param name="CommandsQueued">Approximate messages in the site's command queue (waiting for or held by the relay); null: unknown.</param>
/// <param name="EventsQueued">Approximate messages in the site's events queue (not yet handled by the app); null: unknown.</param>
/// <param name="LastFailure">The latest failure the relay reported (null: none recorded).</param>
public sealed record SiteView(
    string SiteId,
    bool Online,
    DateTimeOffset? LastSeenAt,
    string? RelayVersion,
    PacsEchoStatus PacsEcho,
    DateTimeOffset? PacsEchoCheckedAt,
    int? CommandsQueued,
    int? EventsQueued,
    SiteFailureView? LastFailure);

/// <summary>A relay's failure report as <c>GET /sites</c> shows it (codes and the relay's safe message: no patient data).</summary>
/// <param name="At">When the cloud received it.</param>
/// <param name="Command">The command type that failed (<c>FindStudies</c>, <c>RetrieveStudy</c>, <c>DeliverStudy</c>, …).</param>
/// <param name="Reason">The relay's reason code.</param>
/// <param name="Message">The relay's safe message.</param>
public sealed record SiteFailureView(DateTimeOffset At, string Command, string Reason, string Message);

/// <summary>Admin endpoint: relay health of every configured site (heartbeat, PACS C-ECHO, queue depths, last failure).</summary>
public static class SiteEndpoints
{
    /// <summary>A relay silent for longer is shown offline (heartbeats come every minute).</summary>
    public static readonly TimeSpan OnlineWindow = TimeSpan.FromMinutes(5);

    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/sites", ListAsync)
            .WithTags("Sites").WithName("ListSites")
            .RequireAuthorization(ApiRoles.Policy(ApiRoles.Admin))
            .WithMetadata(new AuditedAs(AuditEventIds.ApplicationActivity, AuditActionCodes.Read, "SitesRead"))
            .Produces<IReadOnlyList<SiteView>>();
    }

    private static async Task<IResult> ListAsync(IConfiguration configuration, ISiteHealthStore store, RelayQueueDepths queues, TimeProvider time, CancellationToken cancellationToken)
    {
        var ids = (configuration[CloudAppSettings.SiteIds.Replace("__", ":", StringComparison.Ordinal)] ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var now = time.GetUtcNow();

        // Four small reads per site, all sites at once: the page stays one round trip long however many sites there are.
        async Task<SiteView> ViewAsync(string id)
        {
            var health = store.GetAsync(id, cancellationToken);
            var failure = store.GetLastFailureAsync(id, cancellationToken);
            var depth = queues.ForAsync(id, cancellationToken);
            var (h, f, d) = (await health, await failure, await depth);
            var lastFailure = f is null ? null : new SiteFailureView(f.ReceivedAt, f.Command, f.Reason, f.Message);
            return h is null
                ? new SiteView(id, false, null, null, PacsEchoStatus.Unknown, null, d.Commands, d.Events, lastFailure)
                : new SiteView(id, now - h.LastSeenAt <= OnlineWindow, h.LastSeenAt, h.RelayVersion, h.PacsEcho, h.PacsEchoCheckedAt, d.Commands, d.Events, lastFailure);
        }

        var views = await Task.WhenAll(ids.Select(ViewAsync));
        return new ApiValueResult(StatusCodes.Status200OK, views);
    }
}
