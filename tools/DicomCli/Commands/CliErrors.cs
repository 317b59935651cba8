using ServerlessImaging.Dicom;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>Turns expected failures (bad DICOM, missing files) into one line on stderr and exit code 1, without a stack trace.</summary>
internal static class CliErrors
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (DicomException ex)
        {
            await Console.Error.WriteLineAsync($"dicom: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"dicom: {ex.Message}");
            return 1;
        }
    }
}
