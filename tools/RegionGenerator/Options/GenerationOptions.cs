namespace ServerlessImaging.RegionGenerator.Options;

/// <summary>Everything that shapes a region. Same options + same seed => byte-identical output.</summary>
public sealed record GenerationOptions
{
    public required string Profile { get; init; }
    /// <summary>Ordinary persons; near-miss persons are added on top when <see cref="NearMisses"/> is on.</summary>
    public required int Patients { get; init; }
    public required bool NearMisses { get; init; }
    public required CountRange StudiesPerPatient { get; init; }
    public required CountRange SeriesPerStudy { get; init; }
    public required CountRange InstancesPerSeries { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public required IReadOnlyList<string> Modalities { get; init; }
    public required IReadOnlyList<string> SiteIds { get; init; }
    /// <summary>Slices of a 512×512 chest CT phantom study given to the first person (P0001); 0: none.</summary>
    public int CtPhantomSlices { get; init; }
}

/// <summary>Named starting points; every value can be overridden on the command line.</summary>
public static class GenerationProfiles
{
    /// <summary>The seed list of modalities an RCP imaging filter offers (Proxymage user guide).</summary>
    public static readonly IReadOnlyList<string> AllModalities =
        ["AU", "CR", "CT", "DX", "ES", "MG", "MR", "NM", "OT", "PT", "RF", "RT", "SC", "SR", "US", "VL", "XA", "XC"];

    public static readonly IReadOnlyList<string> Names = ["tiny", "small", "realistic"];

    public static GenerationOptions Get(string profile, IReadOnlyList<string> siteIds) => profile switch
    {
        // About 60 files of 8x8: every identity trait, near-miss kind and modality (>= 24 series for 18 modalities), loads in seconds.
        "tiny" => new GenerationOptions
        {
            Profile = "tiny", Patients = 9, NearMisses = true,
            StudiesPerPatient = CountRange.Exactly(2), SeriesPerStudy = new(1, 2), InstancesPerSeries = new(1, 2),
            Rows = 8, Columns = 8, Modalities = AllModalities, SiteIds = siteIds,
        },
        "small" => new GenerationOptions
        {
            Profile = "small", Patients = 30, NearMisses = true,
            StudiesPerPatient = new(1, 3), SeriesPerStudy = new(1, 3), InstancesPerSeries = new(2, 12),
            Rows = 64, Columns = 64, Modalities = AllModalities, SiteIds = siteIds,
        },
        // Clinical sizes: 512x512 16-bit, series of hundreds of slices. Several GB; use with overrides.
        "realistic" => new GenerationOptions
        {
            Profile = "realistic", Patients = 20, NearMisses = true,
            StudiesPerPatient = new(1, 4), SeriesPerStudy = new(1, 4), InstancesPerSeries = new(100, 300),
            Rows = 512, Columns = 512, Modalities = AllModalities, SiteIds = siteIds,
        },
        _ => throw new ArgumentException($"Unknown profile '{profile}'; expected one of {string.Join(", ", Names)}.", nameof(profile)),
    };
}
