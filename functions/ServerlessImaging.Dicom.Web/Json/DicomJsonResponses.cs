using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web;

/// <summary>Reads DICOM JSON response bodies with the toolkit's DICOM JSON reader (no second parser here).</summary>
internal static class DicomJsonResponses
{
    public static async Task<IReadOnlyList<DicomDataset>> ReadDatasetArrayAsync(string operation, Stream body, CancellationToken cancellationToken)
    {
        // The toolkit reader takes UTF-8 memory; QIDO pages are bounded by the page size, metadata by the study.
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            return [];
        }
        try
        {
            return DicomJson.DeserializeArray(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (DicomException ex)
        {
            throw new DicomWebException($"DICOMweb {operation} returned invalid DICOM JSON: {ex.GetType().Name}.", DicomWebFailureKind.Protocol, innerException: ex);
        }
    }

    public static DicomDataset ReadDataset(byte[] json) => DicomJson.Deserialize(json);
}
