using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web;

/// <summary>Reads DICOM JSON response bodies through the toolkit's DICOM JSON reader.</summary>
internal static class DicomJsonResponses
{
    public static Task<IReadOnlyList<DicomDataset>> ReadDatasetArrayAsync(string operation, Stream body, CancellationToken cancellationToken) =>
        throw new DicomWebException($"{operation}: DICOM JSON reader not wired yet.", DicomWebFailureKind.Protocol);

    public static DicomDataset ReadDataset(byte[] json) => throw new DicomJsonException("DICOM JSON reader not wired yet.");
}
