namespace ServerlessImaging.LocalRun;

/// <summary>How the relay of one site reaches its PACS: calling AE, C-MOVE into its own SCP or C-GET.</summary>
internal sealed record SiteRelayPlan(string SiteId, string RelayAeTitle, int ScpPort, string RetrieveMethod)
{
    /// <summary>The local sites: chu-nord and ch-est by C-MOVE into the relay's SCP, clinique-sud by C-GET.</summary>
    public static readonly IReadOnlyList<SiteRelayPlan> Local =
    [
        new("chu-nord", "SI_RELAY_NORD", 11121, "Move"),
        new("clinique-sud", "SI_RELAY_SUD", 11122, "Get"),
        new("ch-est", "SI_RELAY_EST", 11123, "Move"),
    ];

    /// <summary>The relay's settings (Relay__* environment variables) for <paramref name="pacs"/>.</summary>
    public Dictionary<string, string> Environment(SitePacs pacs, string storageConnectionString, string spoolDirectory) => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Development",
        ["TCP_NODELAY"] = "1",
        ["Relay__SiteId"] = SiteId,
        ["Relay__Channel__ConnectionString"] = storageConnectionString,
        ["Relay__Channel__CreateIfMissing"] = "true",
        ["Relay__Channel__MaxPollIntervalMilliseconds"] = "250",
        ["Relay__Pacs__AeTitle"] = pacs.AeTitle,
        ["Relay__Pacs__Host"] = pacs.Host,
        ["Relay__Pacs__Port"] = pacs.DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Relay__Pacs__CallingAeTitle"] = RelayAeTitle,
        ["Relay__Pacs__RetrieveMethod"] = RetrieveMethod,
        ["Relay__Scp__AeTitle"] = RelayAeTitle,
        ["Relay__Scp__Port"] = ScpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Relay__Scp__BindAddress"] = "127.0.0.1",
        ["Relay__Spool__Directory"] = spoolDirectory,
        ["Relay__HeartbeatSeconds"] = "5",
        ["Relay__ProgressIntervalMilliseconds"] = "250",
    };
}
