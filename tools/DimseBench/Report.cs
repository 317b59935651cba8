using System.Globalization;

namespace ServerlessImaging.DimseBench;

/// <summary>Formats one measurement pair and the per-phase summary (median and best over rounds).</summary>
internal static class Report
{
    public static string Line(string name, Measure.Result ours, Measure.Result dcmtk) => string.Create(CultureInfo.InvariantCulture,
        $"{name}: ours {ours.InstancesPerSecond,7:0.0} inst/s {ours.MegabytesPerSecond,6:0.0} MB/s peak {ours.PeakMegabytes,5:0} MB | dcmtk {dcmtk.InstancesPerSecond,7:0.0} inst/s {dcmtk.MegabytesPerSecond,6:0.0} MB/s peak {dcmtk.PeakMegabytes,5:0} MB | {ours.InstancesPerSecond / dcmtk.InstancesPerSecond:0.00}x");

    public static string Summary(string name, IReadOnlyList<(Measure.Result Ours, Measure.Result Dcmtk)> rounds)
    {
        var ratios = rounds.Select(r => r.Ours.InstancesPerSecond / r.Dcmtk.InstancesPerSecond).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"{name,-32} ours {Median(rounds.Select(r => r.Ours.InstancesPerSecond)),7:0.0} inst/s peak {Median(rounds.Select(r => r.Ours.PeakMegabytes)),4:0} MB | dcmtk {Median(rounds.Select(r => r.Dcmtk.InstancesPerSecond)),7:0.0} inst/s peak {Median(rounds.Select(r => r.Dcmtk.PeakMegabytes)),4:0} MB | ratio median {Median(ratios):0.00}x best {ratios.Max():0.00}x");
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
