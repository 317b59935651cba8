using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ServerlessImaging.Relay.Diagnostics;

namespace ServerlessImaging.Relay.Tests.Support;

/// <summary>
/// Totals of the relay's counters (meter <see cref="RelayMetrics.MeterName"/>) by instrument name, read as an exporter
/// would. Relay tests that run relays share one collection (one at a time), so what is counted comes from this test.
/// </summary>
public sealed class RelayCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

    public RelayCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RelayMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        _listener.Start();
    }

    public long this[string instrument] => _totals.GetValueOrDefault(instrument);

    /// <summary>Starts every total again from zero.</summary>
    public void Reset() => _totals.Clear();

    public void Dispose() => _listener.Dispose();
}
