namespace ServerlessImaging.EndToEndBench.Data;

/// <summary>One synthetic study and the site PACS that holds it.</summary>
internal sealed record BenchStudy(string StudyInstanceUid, string SiteId, int Instances);

/// <summary>Where the studies of a run live.</summary>
internal static class StudyLayout
{
    /// <summary>
    /// Site of each of <paramref name="count"/> studies, round-robin over <paramref name="sites"/> starting at
    /// <paramref name="offset"/>, so three studies land on three sites and many single studies spread evenly.
    /// </summary>
    public static IReadOnlyList<string> RoundRobin(int count, IReadOnlyList<string> sites, int offset = 0)
    {
        ArgumentNullException.ThrowIfNull(sites);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (sites.Count == 0)
        {
            throw new ArgumentException("no sites", nameof(sites));
        }

        return [.. Enumerable.Range(0, count).Select(i => sites[(i + offset) % sites.Count])];
    }
}
