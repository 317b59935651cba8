namespace ServerlessImaging.Dicom;

/// <summary>A value representation (PS3.5 6.2) and what the codec needs to know about it.</summary>
public sealed class DicomVR : IEquatable<DicomVR>
{
    private DicomVR(string code, VRKind kind, bool longLength, byte padding, int maxLength, int unitSize, bool multiValued, bool usesCharacterSet)
    {
        Code = code;
        Kind = kind;
        HasLongLengthInExplicitVR = longLength;
        PaddingByte = padding;
        MaxLength = maxLength;
        UnitSize = unitSize;
        IsBackslashMultiValued = multiValued;
        UsesSpecificCharacterSet = usesCharacterSet;
        Id = (ushort)((code[0] << 8) | code[1]);
    }

    /// <summary>Two-letter code, e.g. "PN".</summary>
    public string Code { get; }

    public VRKind Kind { get; }

    /// <summary>True when explicit VR encodes this VR with 2 reserved bytes and a 32-bit length (OB, OW, SQ, UN, UT...).</summary>
    public bool HasLongLengthInExplicitVR { get; }

    /// <summary>Byte used to pad a value to even length: space for text, NUL for UI and binary.</summary>
    public byte PaddingByte { get; }

    /// <summary>Maximum value length in bytes (per value for text VRs, 0 = no limit beyond the length field).</summary>
    public int MaxLength { get; }

    /// <summary>Size of one binary number for byte swapping (2, 4 or 8); 1 for bytes and text.</summary>
    public int UnitSize { get; }

    /// <summary>Text VRs whose values are separated by backslash (not ST/LT/UT/UR).</summary>
    public bool IsBackslashMultiValued { get; }

    /// <summary>SH, LO, ST, LT, UT, PN, UC are decoded with the dataset's Specific Character Set; other text VRs are ASCII.</summary>
    public bool UsesSpecificCharacterSet { get; }

    internal ushort Id { get; }

    public bool IsText => Kind == VRKind.Text;

    public static readonly DicomVR AE = Text("AE", 16);
    public static readonly DicomVR AS = Text("AS", 4);
    public static readonly DicomVR AT = new("AT", VRKind.Binary, false, 0, 4, 2, false, false);
    public static readonly DicomVR CS = Text("CS", 16);
    public static readonly DicomVR DA = Text("DA", 18);
    public static readonly DicomVR DS = Text("DS", 16);
    public static readonly DicomVR DT = Text("DT", 54);
    public static readonly DicomVR FL = new("FL", VRKind.Binary, false, 0, 4, 4, false, false);
    public static readonly DicomVR FD = new("FD", VRKind.Binary, false, 0, 8, 8, false, false);
    public static readonly DicomVR IS = Text("IS", 12);
    public static readonly DicomVR LO = Text("LO", 64, charset: true);
    public static readonly DicomVR LT = Text("LT", 10240, multi: false, charset: true);
    public static readonly DicomVR OB = new("OB", VRKind.Bytes, true, 0, 0, 1, false, false);
    public static readonly DicomVR OD = new("OD", VRKind.Bytes, true, 0, 0, 8, false, false);
    public static readonly DicomVR OF = new("OF", VRKind.Bytes, true, 0, 0, 4, false, false);
    public static readonly DicomVR OL = new("OL", VRKind.Bytes, true, 0, 0, 4, false, false);
    public static readonly DicomVR OV = new("OV", VRKind.Bytes, true, 0, 0, 8, false, false);
    public static readonly DicomVR OW = new("OW", VRKind.Bytes, true, 0, 0, 2, false, false);
    public static readonly DicomVR PN = Text("PN", 64 * 5, charset: true);
    public static readonly DicomVR SH = Text("SH", 16, charset: true);
    public static readonly DicomVR SL = new("SL", VRKind.Binary, false, 0, 4, 4, false, false);
    public static readonly DicomVR SQ = new("SQ", VRKind.Sequence, true, 0, 0, 1, false, false);
    public static readonly DicomVR SS = new("SS", VRKind.Binary, false, 0, 2, 2, false, false);
    public static readonly DicomVR ST = Text("ST", 1024, multi: false, charset: true);
    public static readonly DicomVR SV = new("SV", VRKind.Binary, true, 0, 8, 8, false, false);
    public static readonly DicomVR TM = Text("TM", 28);
    public static readonly DicomVR UC = new("UC", VRKind.Text, true, (byte)' ', 0, 1, true, true);
    public static readonly DicomVR UI = new("UI", VRKind.Text, false, 0, 64, 1, true, false);
    public static readonly DicomVR UL = new("UL", VRKind.Binary, false, 0, 4, 4, false, false);
    public static readonly DicomVR UN = new("UN", VRKind.Bytes, true, 0, 0, 1, false, false);
    public static readonly DicomVR UR = new("UR", VRKind.Text, true, (byte)' ', 0, 1, false, false);
    public static readonly DicomVR US = new("US", VRKind.Binary, false, 0, 2, 2, false, false);
    public static readonly DicomVR UT = new("UT", VRKind.Text, true, (byte)' ', 0, 1, false, true);
    public static readonly DicomVR UV = new("UV", VRKind.Binary, true, 0, 8, 8, false, false);

    /// <summary>Pseudo VR of item and delimitation tags (FFFE,xxxx), which carry no VR on the wire.</summary>
    public static readonly DicomVR NONE = new("NONE", VRKind.Bytes, false, 0, 0, 1, false, false);

    public static IReadOnlyList<DicomVR> All { get; } =
    [
        AE, AS, AT, CS, DA, DS, DT, FL, FD, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
    ];

    private static readonly Dictionary<ushort, DicomVR> ById = All.ToDictionary(v => v.Id);

    private static DicomVR Text(string code, int max, bool multi = true, bool charset = false) =>
        new(code, VRKind.Text, false, (byte)' ', max, 1, multi, charset);

    /// <summary>Looks up a VR from its two bytes on the wire; false for anything that is not a PS3.5 VR.</summary>
    public static bool TryParse(byte first, byte second, out DicomVR vr) =>
        ById.TryGetValue((ushort)((first << 8) | second), out vr!);

    public static bool TryParse(string code, out DicomVR vr)
    {
        vr = null!;
        return code is { Length: 2 } && TryParse((byte)code[0], (byte)code[1], out vr);
    }

    public static DicomVR Parse(string code) =>
        TryParse(code, out var vr) ? vr : throw new DicomValueException($"'{code}' is not a DICOM value representation");

    public bool Equals(DicomVR? other) => ReferenceEquals(this, other);
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    public override int GetHashCode() => Id;
    public override string ToString() => Code;
}

/// <summary>How values of a VR are stored.</summary>
public enum VRKind
{
    /// <summary>Character strings (backslash-separated unless ST/LT/UT/UR).</summary>
    Text,
    /// <summary>Fixed-size binary numbers (US, SS, UL, SL, FL, FD, SV, UV, AT).</summary>
    Binary,
    /// <summary>Opaque byte/word streams (OB, OW, OF, OD, OL, OV, UN).</summary>
    Bytes,
    /// <summary>SQ.</summary>
    Sequence,
}
