using System.Diagnostics.Metrics;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>
/// Counters of relay messages that are not ordinary events (meter <see cref="MeterName"/>). Tags are site ids,
/// message types and failure reasons only: never patient data.
/// </summary>
public sealed class RelayEventMetrics : IDisposable
{
    /// <summary>Meter name to subscribe to.</summary>
    public const string MeterName = "ServerlessImaging.Cloud";

    private readonly Meter _meter;
    private readonly Counter<long> _poisonReports;
    private readonly Counter<long> _misroutedCommands;
    private readonly Counter<long> _foreignSiteMessages;

    /// <summary>Creates the instruments.</summary>
    public RelayEventMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _poisonReports = _meter.CreateCounter<long>("app.relay.poison_reports", "{message}", "Relays' reports of messages they quarantined that name no command, by site and reason.");
        _misroutedCommands = _meter.CreateCounter<long>("app.relay.misrouted_commands", "{message}", "Commands found on the events queue (quarantined), by site and type.");
        _foreignSiteMessages = _meter.CreateCounter<long>("app.relay.foreign_site_messages", "{message}", "Messages on a site's events queue claiming another site (quarantined), by queue site, claimed site and type.");
    }

    /// <summary>A relay reported a quarantined message it could not read.</summary>
    public void PoisonReported(string siteId, string reason) =>
        _poisonReports.Add(1, new KeyValuePair<string, object?>("site", siteId), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A command arrived on the events queue.</summary>
    public void MisroutedCommand(string siteId, string type) =>
        _misroutedCommands.Add(1, new KeyValuePair<string, object?>("site", siteId), new KeyValuePair<string, object?>("type", type));

    /// <summary>A message on <paramref name="queueSiteId"/>'s events queue claimed to come from <paramref name="claimedSiteId"/>.</summary>
    public void ForeignSite(string queueSiteId, string claimedSiteId, string type) =>
        _foreignSiteMessages.Add(
            1,
            new KeyValuePair<string, object?>("site", queueSiteId),
            new KeyValuePair<string, object?>("claimed_site", claimedSiteId),
            new KeyValuePair<string, object?>("type", type));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
