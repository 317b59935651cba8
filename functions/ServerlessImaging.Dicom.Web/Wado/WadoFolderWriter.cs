using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web.Wado;

/// <summary>
/// Saves each retrieved instance as <c>{SOPInstanceUID}.dcm</c>: written to a temporary name first and
/// renamed once complete and identified, so a cut transfer never leaves a plausible-looking file behind.
/// </summary>
internal static class WadoFolderWriter
{
    public static async Task<IReadOnlyList<string>> SaveAllAsync(WadoResponse response, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var saved = new List<string>();
        while (await response.ReadNextPartAsync(cancellationToken).ConfigureAwait(false) is { } part)
        {
            var temporary = Path.Combine(folder, $".wado-{Guid.NewGuid():N}.part");
            try
            {
                var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
                await using (file.ConfigureAwait(false))
                {
                    await part.Body.CopyToAsync(file, 128 * 1024, cancellationToken).ConfigureAwait(false);
                }
                var uid = await ReadSopInstanceUidAsync(temporary, cancellationToken).ConfigureAwait(false);
                var target = Path.Combine(folder, DicomWebPaths.Uid(uid) + ".dcm");
                File.Move(temporary, target, overwrite: true);
                saved.Add(target);
            }
            catch (Multipart.MultipartFormatException ex)
            {
                throw new DicomWebException($"DICOMweb WADO-RS response is malformed: {ex.Message}", DicomWebFailureKind.Protocol, innerException: ex);
            }
            finally
            {
                File.Delete(temporary); // no-op once moved
            }
        }
        return saved;
    }

    private static async Task<string> ReadSopInstanceUidAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var file = await DicomFile.OpenAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            return file.FileMetaInfo.GetStringOrDefault(DicomTag.MediaStorageSOPInstanceUID)
                ?? file.Dataset.GetStringOrDefault(DicomTag.SOPInstanceUID)
                ?? throw new DicomWebException("DICOMweb WADO-RS returned an instance without a SOP Instance UID.", DicomWebFailureKind.Protocol);
        }
        catch (DicomException ex)
        {
            throw new DicomWebException("DICOMweb WADO-RS returned a part that is not a readable DICOM Part 10 file.", DicomWebFailureKind.Protocol, innerException: ex);
        }
    }
}
