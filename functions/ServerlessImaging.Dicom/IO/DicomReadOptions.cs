namespace ServerlessImaging.Dicom;

/// <summary>How datasets are read.</summary>
public sealed record DicomReadOptions
{
    public static DicomReadOptions Default { get; } = new();

    /// <summary>Values at least this long are not loaded when the source is a file: they stay a lazy reference to the file range.</summary>
    public long LargeValueThreshold { get; init; } = 64 * 1024;

    /// <summary>Keep (gggg,0000) group length elements. Off by default: they go stale as soon as a dataset changes and the writer recomputes what it needs.</summary>
    public bool KeepGroupLengths { get; init; }

    /// <summary>Deepest sequence nesting accepted before the data is declared malformed (protects the stack against hostile input).</summary>
    public int MaxSequenceDepth { get; init; } = 64;
}
