using System.Diagnostics.Metrics;
using System.Reflection;

namespace ServerlessImaging.Relay.Diagnostics;

/// <summary>
/// The relay's OpenTelemetry metrics (System.Diagnostics.Metrics, meter <see cref="MeterName"/>). Tags are
/// command types, outcomes and failure reasons only: never patient data or study identifiers.
/// </summary>
public sealed class RelayMetrics : IDisposable
{
    /// <summary>Meter name to subscribe to.</summary>
    public const string MeterName = "ServerlessImaging.Relay";

    private readonly Meter _meter;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _instances;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _poison;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _scpRefused;
    private readonly Counter<long> _resumed;
    private readonly Counter<long> _existing;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _deliveredBytes;
    private readonly Counter<long> _deliverySkipped;

    /// <summary>Creates the instruments.</summary>
    public RelayMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName, Version) ?? new Meter(MeterName, Version);
        _commands = _meter.CreateCounter<long>("relay.commands", "{command}", "Commands handled, by type and outcome.");
        _failures = _meter.CreateCounter<long>("relay.failures", "{command}", "Commands that failed, by type and reason.");
        _instances = _meter.CreateCounter<long>("relay.instances.staged", "{instance}", "Instances uploaded to staging.");
        _bytes = _meter.CreateCounter<long>("relay.bytes.staged", "By", "Bytes uploaded to staging.");
        _poison = _meter.CreateCounter<long>("relay.commands.quarantined", "{command}", "Commands moved to the poison queue.");
        _duration = _meter.CreateHistogram<double>("relay.command.duration", "s", "Time to handle a command, by type.");
        _scpRefused = _meter.CreateCounter<long>("relay.scp.refused", "{connection}", "Connections and associations the C-STORE SCP refused, by reason.");
        _resumed = _meter.CreateCounter<long>("relay.instances.resumed", "{instance}", "Instances a retrieval did not fetch because its staging journal recorded them.");
        _delivered = _meter.CreateCounter<long>("relay.instances.delivered", "{instance}", "Instances C-STOREd into a delivery destination.");
        _deliveredBytes = _meter.CreateCounter<long>("relay.bytes.delivered", "By", "Bytes of instances C-STOREd into a delivery destination.");
        _deliverySkipped = _meter.CreateCounter<long>("relay.instances.delivery_skipped", "{instance}", "Instances of a delivery not sent because they were there already, by where that was known from (journal, destination).");
        _existing = _meter.CreateCounter<long>("relay.instances.existing", "{instance}", "Instances fetched and uploaded again that staging already held (HTTP 409): staged by an attempt the journal does not know of.");
    }

    /// <summary>Version of this relay build.</summary>
    public static string Version { get; } =
        typeof(RelayMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";

    /// <summary>A command finished.</summary>
    public void CommandHandled(string type, string outcome, TimeSpan duration)
    {
        _commands.Add(1, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("outcome", outcome));
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("type", type));
    }

    /// <summary>A command failed.</summary>
    public void CommandFailed(string type, string reason) =>
        _failures.Add(1, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>An instance reached staging.</summary>
    public void InstanceStaged(long bytes)
    {
        _instances.Add(1);
        _bytes.Add(bytes);
    }

    /// <summary>A retrieval took <paramref name="count"/> instances from its journal instead of fetching them.</summary>
    public void InstancesResumed(int count)
    {
        if (count > 0)
        {
            _resumed.Add(count);
        }
    }

    /// <summary>An upload found its blob already in staging.</summary>
    public void InstanceAlreadyInStaging() => _existing.Add(1);

    /// <summary>An instance was C-STOREd into a delivery destination.</summary>
    public void InstanceDelivered(long bytes)
    {
        _delivered.Add(1);
        _deliveredBytes.Add(bytes);
    }

    /// <summary>A delivery did not send <paramref name="count"/> instances: <paramref name="knownFrom"/> (journal or destination) says they are there.</summary>
    public void DeliveryInstancesSkipped(int count, string knownFrom)
    {
        if (count > 0)
        {
            _deliverySkipped.Add(count, new KeyValuePair<string, object?>("from", knownFrom));
        }
    }

    /// <summary>A command was quarantined.</summary>
    public void Quarantined(string reason) => _poison.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>
    /// The C-STORE SCP refused someone: <c>peer_address</c> (closed unread), <c>calling_ae</c>, <c>called_ae</c> or
    /// <c>application_context</c> (A-ASSOCIATE-RJ).
    /// </summary>
    public void ScpRefused(string reason) => _scpRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
