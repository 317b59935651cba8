namespace ServerlessImaging.Orchestration.Ports;

/// <summary>
/// The registrations waiting to ask a site again, from the read model: their search found the site unreachable in
/// their current round and waits for its retry time. A heartbeat of the site's relay saying its PACS answers wakes them
/// at once (<see cref="Orchestrator.SiteHeartbeat"/>).
/// </summary>
public interface ISiteSearchWaitIndex
{
    /// <summary>Up to <paramref name="max"/> ids of registrations waiting to ask <paramref name="siteId"/> again.</summary>
    Task<IReadOnlyList<string>> RegistrationsWaitingForAsync(string siteId, int max, CancellationToken cancellationToken);
}
