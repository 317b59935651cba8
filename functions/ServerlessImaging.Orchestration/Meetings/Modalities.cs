using System.Collections.Frozen;

namespace ServerlessImaging.Orchestration.Meetings;

/// <summary>The modality codes a meeting may filter on (the Proxymage list, a subset of DICOM CID 29/33).</summary>
public static class Modalities
{
    /// <summary>Every allowed code, in the order the user guide lists them.</summary>
    public static readonly IReadOnlyList<string> All =
        ["AU", "CR", "CT", "DX", "ES", "MG", "MR", "NM", "OT", "PT", "RF", "RT", "SC", "SR", "US", "VL", "XA", "XC"];

    private static readonly FrozenSet<string> Known = All.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>True when <paramref name="code"/> is one of <see cref="All"/> (exact, upper case).</summary>
    public static bool IsKnown(string? code) => code is not null && Known.Contains(code);
}
