namespace ServerlessImaging.Dicom.Networking;

/// <summary>Well-known UIDs used by the networking layer (PS3.6 annex A, PS3.4).</summary>
public static class DicomUids
{
    public const string ApplicationContext = "1.2.840.10008.3.1.1.1";
    /// <summary>Our implementation class UID (2.25 UUID-derived root, fixed for this toolkit).</summary>
    public const string ImplementationClass = "2.25.208737452873940375630150432907326358401";
    public const string ImplementationVersion = "SI_DICOM_1";

    public const string Verification = "1.2.840.10008.1.1";
    public const string PatientRootFind = "1.2.840.10008.5.1.4.1.2.1.1";
    public const string PatientRootMove = "1.2.840.10008.5.1.4.1.2.1.2";
    public const string PatientRootGet = "1.2.840.10008.5.1.4.1.2.1.3";
    public const string StudyRootFind = "1.2.840.10008.5.1.4.1.2.2.1";
    public const string StudyRootMove = "1.2.840.10008.5.1.4.1.2.2.2";
    public const string StudyRootGet = "1.2.840.10008.5.1.4.1.2.2.3";

    public const string ImplicitVrLittleEndian = "1.2.840.10008.1.2";
    public const string ExplicitVrLittleEndian = "1.2.840.10008.1.2.1";
    public const string ExplicitVrBigEndian = "1.2.840.10008.1.2.2";
    public const string DeflatedExplicitVrLittleEndian = "1.2.840.10008.1.2.1.99";

    /// <summary>Uncompressed syntaxes a store SCU can offer besides the file's own.</summary>
    public static readonly IReadOnlyList<string> UncompressedTransferSyntaxes = [ExplicitVrLittleEndian, ImplicitVrLittleEndian];

    /// <summary>Transfer syntaxes an SCP or C-GET SCU accepts by default: uncompressed plus the common encapsulated ones (stored as received).</summary>
    public static readonly IReadOnlyList<string> CommonTransferSyntaxes =
    [
        ExplicitVrLittleEndian, ImplicitVrLittleEndian, DeflatedExplicitVrLittleEndian, ExplicitVrBigEndian,
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.5",
    ];

    /// <summary>Storage SOP classes proposed with SCP role for C-GET and accepted by default by the store SCP.</summary>
    public static readonly IReadOnlyList<string> CommonStorageSopClasses =
    [
        "1.2.840.10008.5.1.4.1.1.2",      // CT Image
        "1.2.840.10008.5.1.4.1.1.2.1",    // Enhanced CT
        "1.2.840.10008.5.1.4.1.1.4",      // MR Image
        "1.2.840.10008.5.1.4.1.1.4.1",    // Enhanced MR
        "1.2.840.10008.5.1.4.1.1.1",      // Computed Radiography
        "1.2.840.10008.5.1.4.1.1.1.1",    // Digital X-Ray for presentation
        "1.2.840.10008.5.1.4.1.1.1.1.1",  // Digital X-Ray for processing
        "1.2.840.10008.5.1.4.1.1.1.2",    // Digital Mammography for presentation
        "1.2.840.10008.5.1.4.1.1.1.2.1",  // Digital Mammography for processing
        "1.2.840.10008.5.1.4.1.1.6.1",    // Ultrasound
        "1.2.840.10008.5.1.4.1.1.3.1",    // Ultrasound multi-frame
        "1.2.840.10008.5.1.4.1.1.7",      // Secondary Capture
        "1.2.840.10008.5.1.4.1.1.7.2",    // Multi-frame grayscale byte SC
        "1.2.840.10008.5.1.4.1.1.7.3",    // Multi-frame grayscale word SC
        "1.2.840.10008.5.1.4.1.1.7.4",    // Multi-frame true color SC
        "1.2.840.10008.5.1.4.1.1.20",     // Nuclear Medicine
        "1.2.840.10008.5.1.4.1.1.128",    // PET
        "1.2.840.10008.5.1.4.1.1.12.1",   // X-Ray Angiographic
        "1.2.840.10008.5.1.4.1.1.12.2",   // X-Ray Radiofluoroscopic
        "1.2.840.10008.5.1.4.1.1.481.1",  // RT Image
        "1.2.840.10008.5.1.4.1.1.481.2",  // RT Dose
        "1.2.840.10008.5.1.4.1.1.481.3",  // RT Structure Set
        "1.2.840.10008.5.1.4.1.1.481.5",  // RT Plan
        "1.2.840.10008.5.1.4.1.1.88.11",  // Basic Text SR
        "1.2.840.10008.5.1.4.1.1.88.22",  // Enhanced SR
        "1.2.840.10008.5.1.4.1.1.88.33",  // Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.88.59",  // Key Object Selection
        "1.2.840.10008.5.1.4.1.1.104.1",  // Encapsulated PDF
        "1.2.840.10008.5.1.4.1.1.77.1.4", // VL Photographic
        "1.2.840.10008.5.1.4.1.1.11.1",   // Grayscale Softcopy Presentation State
        "1.2.840.10008.5.1.4.1.1.66.4",   // Segmentation
    ];

    /// <summary>True for the uncompressed little-endian syntaxes, between which re-encoding needs no codec.</summary>
    public static bool IsUncompressedLittleEndian(string transferSyntax) =>
        transferSyntax is ImplicitVrLittleEndian or ExplicitVrLittleEndian;
}
