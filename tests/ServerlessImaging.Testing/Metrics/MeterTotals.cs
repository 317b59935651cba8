using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ServerlessImaging.Testing.Metrics;

/// <summary>
/// Totals of one meter's counters by instrument name, and by instrument and tag value, read as an exporter would (a
/// <see cref="MeterListener"/>). Tests that share a meter with others running in parallel assert on tags of their own
/// (a run-unique site id), or run one at a time.
/// </summary>
public sealed class MeterTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

    public MeterTotals(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            Add(instrument.Name, value);
            foreach (var tag in tags)
            {
                if (tag.Value is string text)
                {
                    Add(Key(instrument.Name, tag.Key, text), value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Total of an instrument.</summary>
    public long this[string instrument] => _totals.GetValueOrDefault(instrument);

    /// <summary>Total of an instrument's measurements tagged <paramref name="tag"/> = <paramref name="value"/>.</summary>
    public long this[string instrument, string tag, string value] => _totals.GetValueOrDefault(Key(instrument, tag, value));

    /// <summary>Starts every total again from zero.</summary>
    public void Reset() => _totals.Clear();

    /// <summary>Waits (10 s at most) until a tagged total reaches <paramref name="atLeast"/>: some counts follow the action they count.</summary>
    public async Task<long> WaitForAsync(string instrument, string tag, string value, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (this[instrument, tag, value] < atLeast && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return this[instrument, tag, value];
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(string instrument, string tag, string value) => instrument + "|" + tag + "=" + value;

    private void Add(string key, long value) => _totals.AddOrUpdate(key, value, (_, sum) => sum + value);
}
