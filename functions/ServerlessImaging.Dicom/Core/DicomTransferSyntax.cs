namespace ServerlessImaging.Dicom;

/// <summary>A transfer syntax: how the dataset is encoded (VR explicit/implicit, byte order, deflate) and whether pixel data is encapsulated.
/// Encapsulated (compressed) syntaxes are passed through: fragments are kept as they are, never decoded.</summary>
public sealed class DicomTransferSyntax : IEquatable<DicomTransferSyntax>
{
    private DicomTransferSyntax(string uid, string name, bool explicitVR, bool bigEndian, bool deflated, bool encapsulated, bool retired = false)
    {
        Uid = uid;
        Name = name;
        IsExplicitVR = explicitVR;
        IsBigEndian = bigEndian;
        IsDeflated = deflated;
        IsEncapsulated = encapsulated;
        IsRetired = retired;
    }

    public string Uid { get; }
    public string Name { get; }
    public bool IsExplicitVR { get; }
    public bool IsBigEndian { get; }
    public bool IsDeflated { get; }
    public bool IsEncapsulated { get; }
    public bool IsRetired { get; }

    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false);
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false);
    public static readonly DicomTransferSyntax EncapsulatedUncompressedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", true, false, false, true);
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false);
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, false, retired: true);
    public static readonly DicomTransferSyntax JPEGBaseline = Encapsulated("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)");
    public static readonly DicomTransferSyntax JPEGExtended = Encapsulated("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)");
    public static readonly DicomTransferSyntax JPEGLossless = Encapsulated("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)");
    public static readonly DicomTransferSyntax JPEGLosslessSV1 = Encapsulated("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])");
    public static readonly DicomTransferSyntax JPEGLSLossless = Encapsulated("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless");
    public static readonly DicomTransferSyntax JPEGLSNearLossless = Encapsulated("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)");
    public static readonly DicomTransferSyntax JPEG2000Lossless = Encapsulated("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)");
    public static readonly DicomTransferSyntax JPEG2000 = Encapsulated("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression");
    public static readonly DicomTransferSyntax JPEG2000Part2Lossless = Encapsulated("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)");
    public static readonly DicomTransferSyntax JPEG2000Part2 = Encapsulated("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component");
    public static readonly DicomTransferSyntax JPIP = new("1.2.840.10008.1.2.4.94", "JPIP Referenced", true, false, false, false);
    public static readonly DicomTransferSyntax JPIPDeflate = new("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", true, false, true, false);
    public static readonly DicomTransferSyntax MPEG2MainProfile = Encapsulated("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level");
    public static readonly DicomTransferSyntax MPEG2MainProfileF = Encapsulated("1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile / Main Level");
    public static readonly DicomTransferSyntax MPEG2HighProfile = Encapsulated("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level");
    public static readonly DicomTransferSyntax MPEG2HighProfileF = Encapsulated("1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile / High Level");
    public static readonly DicomTransferSyntax MPEG4HP41 = Encapsulated("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1");
    public static readonly DicomTransferSyntax MPEG4HP41F = Encapsulated("1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1");
    public static readonly DicomTransferSyntax MPEG4HP41BD = Encapsulated("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1");
    public static readonly DicomTransferSyntax MPEG4HP41BDF = Encapsulated("1.2.840.10008.1.2.4.103.1", "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1");
    public static readonly DicomTransferSyntax MPEG4HP422D = Encapsulated("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video");
    public static readonly DicomTransferSyntax MPEG4HP423D = Encapsulated("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video");
    public static readonly DicomTransferSyntax MPEG4Stereo = Encapsulated("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2");
    public static readonly DicomTransferSyntax HEVCMain = Encapsulated("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1");
    public static readonly DicomTransferSyntax HEVCMain10 = Encapsulated("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1");
    public static readonly DicomTransferSyntax JPEGXLLossless = Encapsulated("1.2.840.10008.1.2.4.110", "JPEG XL Lossless");
    public static readonly DicomTransferSyntax JPEGXLRecompression = Encapsulated("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression");
    public static readonly DicomTransferSyntax JPEGXL = Encapsulated("1.2.840.10008.1.2.4.112", "JPEG XL");
    public static readonly DicomTransferSyntax HTJ2KLossless = Encapsulated("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)");
    public static readonly DicomTransferSyntax HTJ2KLosslessRPCL = Encapsulated("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)");
    public static readonly DicomTransferSyntax HTJ2K = Encapsulated("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000");
    public static readonly DicomTransferSyntax RLELossless = Encapsulated("1.2.840.10008.1.2.5", "RLE Lossless");
    public static readonly DicomTransferSyntax SMPTE2110Video = Encapsulated("1.2.840.10008.1.2.7.1", "SMPTE ST 2110-20 Uncompressed Progressive Active Video");

    // Retired JPEG processes, still met in archives: pass-through like the others.
    private static readonly string[] RetiredJpeg =
        ["52", "53", "54", "55", "56", "58", "59", "60", "61", "62", "63", "64", "65", "66"];

    private static readonly Dictionary<string, DicomTransferSyntax> ByUid = BuildTable();

    private static DicomTransferSyntax Encapsulated(string uid, string name) => new(uid, name, true, false, false, true);

    private static Dictionary<string, DicomTransferSyntax> BuildTable()
    {
        var list = typeof(DicomTransferSyntax).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DicomTransferSyntax))
            .Select(f => (DicomTransferSyntax)f.GetValue(null)!)
            .ToList();
        list.AddRange(RetiredJpeg.Select(p => new DicomTransferSyntax("1.2.840.10008.1.2.4." + p, "JPEG (retired process)", true, false, false, true, retired: true)));
        return list.ToDictionary(t => t.Uid, StringComparer.Ordinal);
    }

    public static IEnumerable<DicomTransferSyntax> Known => ByUid.Values;

    /// <summary>Finds a known syntax; throws <see cref="DicomUnsupportedTransferSyntaxException"/> for any other UID.</summary>
    public static DicomTransferSyntax Parse(string uid)
    {
        var key = uid.TrimEnd('\0', ' ');
        return ByUid.TryGetValue(key, out var ts)
            ? ts
            : throw new DicomUnsupportedTransferSyntaxException($"Transfer syntax '{key}' is not supported");
    }

    public static bool TryParse(string uid, out DicomTransferSyntax syntax) => ByUid.TryGetValue(uid.TrimEnd('\0', ' '), out syntax!);

    public bool Equals(DicomTransferSyntax? other) => other is not null && Uid == other.Uid;
    public override bool Equals(object? obj) => Equals(obj as DicomTransferSyntax);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Uid);
    public override string ToString() => $"{Name} [{Uid}]";
}
