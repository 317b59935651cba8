namespace ServerlessImaging.Dicom;

/// <summary>How datasets are read.</summary>
public sealed record DicomReadOptions
{
    public static DicomReadOptions Default { get; } = new();

    /// <summary>Values at least this long are not loaded when the source is a file: they stay a lazy reference to the file range.</summary>
    public long LargeValueThreshold { get; init; } = 64 * 1024;

    /// <summary>Keep (gggg,0000) group length elements. Off by default: they go stale as soon as a dataset changes and the writer recomputes what it needs.</summary>
    public bool KeepGroupLengths { get; init; }

    /// <summary>
    /// Stop reading at the first top-level element whose tag is this one or later (the element is not read). With
    /// (7FE0,0010) Pixel Data, reads the header of an instance without its pixels: what a check of its identifying
    /// attributes needs, in bounded memory.
    /// </summary>
    public DicomTag? StopBeforeTag { get; init; }

    /// <summary>Deepest sequence nesting accepted before the data is declared malformed (protects the stack against hostile input).</summary>
    public int MaxSequenceDepth { get; init; } = 64;
}
