using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ServerlessImaging.Relay.Diagnostics;

namespace ServerlessImaging.Relay.Tests.Support;

/// <summary>
/// Reads the relay's <c>relay.scp.refused</c> counter as an exporter would (a <see cref="MeterListener"/>), by reason.
/// Relay tests run one at a time, so what is counted while this lives comes from the test's own relay.
/// </summary>
public sealed class ScpRefusals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public ScpRefusals()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RelayMetrics.MeterName && instrument.Name == "relay.scp.refused")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason" && tag.Value is string reason)
                {
                    _byReason.AddOrUpdate(reason, value, (_, sum) => sum + value);
                }
            }
        });
        _listener.Start();
    }

    public long this[string reason] => _byReason.GetValueOrDefault(reason);

    /// <summary>Waits until <paramref name="reason"/> reaches <paramref name="atLeast"/> (the SCP counts just after it closed the connection).</summary>
    public async Task<long> WaitForAsync(string reason, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (this[reason] < atLeast && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return this[reason];
    }

    public void Dispose() => _listener.Dispose();
}
