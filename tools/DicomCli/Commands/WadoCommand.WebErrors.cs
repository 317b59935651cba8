using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>Expected DICOMweb failures become one stderr line and exit code 1 (no stack trace, no response body).</summary>
internal static class WebCliErrors
{
    public static async Task<int> RunAsync(string verb, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (DicomWebException ex)
        {
            await Console.Error.WriteLineAsync($"dicom {verb}: {ex.Kind}: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException or ArgumentException or UriFormatException or FormatException)
        {
            await Console.Error.WriteLineAsync($"dicom {verb}: {ex.Message}");
            return 1;
        }
    }

    public static Uri BaseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : throw new UriFormatException($"'{text}' is not an absolute DICOMweb base URL.");
}
