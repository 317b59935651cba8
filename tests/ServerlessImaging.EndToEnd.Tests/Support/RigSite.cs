using ServerlessImaging.LocalRun;
using ServerlessImaging.Testing.Isolation;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>
/// One site of a rig: a run-unique site id (so its own command and poison queues), the PACS its relay talks to and how
/// it retrieves. C-GET needs no inbound port, so Orthanc sites use the stack's SI_RELAY_SUD caller title without any
/// port to collide on; C-MOVE is used against private PACS whose configuration names this relay's own SCP port.
/// </summary>
internal sealed record RigSite(string Name, string SiteId, PacsAddress Pacs, SiteRelayPlan Plan)
{
    /// <summary>Settings added to this relay's (e.g. a shorter DIMSE timeout).</summary>
    public Dictionary<string, string> RelaySettings { get; init; } = [];

    /// <summary>A site retrieving by C-GET from <paramref name="pacs"/> (an Orthanc of the stack, or a forwarder in front of one).</summary>
    public static RigSite ByGet(string name, PacsAddress pacs)
    {
        var siteId = NewSiteId(name);

        // The SCP settings are unused with C-GET (the relay opens no port) but the plan always carries them.
        return new RigSite(name, siteId, pacs, new SiteRelayPlan(siteId, "SI_RELAY_SUD", 11122, "Get"));
    }

    /// <summary>A site retrieving by C-MOVE into the relay's own SCP at <paramref name="relayAeTitle"/>:<paramref name="scpPort"/>.</summary>
    public static RigSite ByMove(string name, PacsAddress pacs, string relayAeTitle, int scpPort)
    {
        var siteId = NewSiteId(name);
        return new RigSite(name, siteId, pacs, new SiteRelayPlan(siteId, relayAeTitle, scpPort, "Move"));
    }

    private static string NewSiteId(string name) => UniqueNames.Queue("f-" + name);
}
