namespace ServerlessImaging.Dicom;

/// <summary>One entry of a dataset: a plain element, a sequence, or encapsulated pixel data.</summary>
public abstract class DicomItem
{
    protected DicomItem(DicomTag tag, DicomVR vr)
    {
        Tag = tag;
        VR = vr ?? throw new ArgumentNullException(nameof(vr));
    }

    public DicomTag Tag { get; }
    public DicomVR VR { get; }

    public override string ToString() => $"{Tag} {VR}";
}

/// <summary>A data element with a value (text, numbers or bytes). Value bytes are little endian, as read (padding included).</summary>
public sealed class DicomElement : DicomItem
{
    public DicomElement(DicomTag tag, DicomVR vr, DicomValueSource value) : base(tag, vr)
    {
        if (vr.Kind == VRKind.Sequence)
        {
            throw new ArgumentException("Use DicomSequence for SQ", nameof(vr));
        }
        Value = value ?? throw new ArgumentNullException(nameof(value));
    }

    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes) : this(tag, vr, DicomValueSource.FromBytes(bytes)) { }

    public DicomValueSource Value { get; }

    public long Length => Value.Length;

    public bool IsEmpty => Value.Length == 0;
}

/// <summary>A sequence (SQ) of item datasets.</summary>
public sealed class DicomSequence : DicomItem
{
    private readonly List<DicomDataset> _items = [];

    public DicomSequence(DicomTag tag, params IEnumerable<DicomDataset> items) : base(tag, DicomVR.SQ)
    {
        foreach (var item in items)
        {
            Add(item);
        }
    }

    /// <summary>The datasets of the parent this sequence was added to; items inherit its character set.</summary>
    internal DicomDataset? Owner { get; set; }

    public IReadOnlyList<DicomDataset> Items => _items;

    public void Add(DicomDataset item)
    {
        ArgumentNullException.ThrowIfNull(item);
        item.ParentSequence = this;
        _items.Add(item);
    }
}

/// <summary>Encapsulated pixel data: the basic offset table and every fragment kept exactly as they are (PS3.5 A.4).</summary>
public sealed class DicomFragmentSequence : DicomItem
{
    private readonly List<DicomValueSource> _fragments = [];

    public DicomFragmentSequence(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> offsetTable, params IEnumerable<DicomValueSource> fragments) : base(tag, vr)
    {
        OffsetTable = offsetTable;
        _fragments.AddRange(fragments);
    }

    /// <summary>Raw bytes of the first item (the basic offset table; often empty).</summary>
    public ReadOnlyMemory<byte> OffsetTable { get; }

    public IReadOnlyList<DicomValueSource> Fragments => _fragments;

    public void Add(DicomValueSource fragment) => _fragments.Add(fragment);
}
