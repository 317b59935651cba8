namespace ServerlessImaging.Dicom.Web.Wado;

internal static class WadoFolderWriter
{
    public static Task<IReadOnlyList<string>> SaveAllAsync(WadoResponse response, string folder, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
}
