namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>A hand-encoded Implicit VR LE STUDY-level identifier (QueryRetrieveLevel=STUDY, StudyInstanceUID universal) for raw-level tests.</summary>
public static class StudyQueryIdentifier
{
    public static byte[] Bytes { get; } =
    [
        0x08, 0x00, 0x52, 0x00, 0x06, 0x00, 0x00, 0x00, (byte)'S', (byte)'T', (byte)'U', (byte)'D', (byte)'Y', (byte)' ',
        0x20, 0x00, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
}
