using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Configuration;
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
public sealed record SiteView(string SiteId, bool Online, DateTimeOffset? LastSeenAt, string? RelayVersion, PacsEchoStatus PacsEcho, DateTimeOffset? PacsEchoCheckedAt);

/// <summary>Admin endpoint: relay health of every configured site.</summary>
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

    private static async Task<IResult> ListAsync(IConfiguration configuration, ISiteHealthStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var ids = (configuration[CloudAppSettings.SiteIds.Replace("__", ":", StringComparison.Ordinal)] ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var views = new List<SiteView>();
        foreach (var id in ids)
        {
            var health = await store.GetAsync(id, cancellationToken);
            views.Add(health is null
                ? new SiteView(id, false, null, null, PacsEchoStatus.Unknown, null)
                : new SiteView(id, now - health.LastSeenAt <= OnlineWindow, health.LastSeenAt, health.RelayVersion, health.PacsEcho, health.PacsEchoCheckedAt));
        }

        return new ApiValueResult(StatusCodes.Status200OK, views);
    }
}
