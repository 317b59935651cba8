using ServerlessImaging.RegionGenerator.Cli;
using ServerlessImaging.RegionGenerator.Loading;
using ServerlessImaging.RegionGenerator.Manifest;

try
{
    return await RegionCommands.Build().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception ex) when (ex is RegionLoadException or RegionManifestException or FormatException or ArgumentException or IOException or ServerlessImaging.Dicom.DicomException)
{
    // Typed, expected failures: a clear message and a non-zero exit, no stack trace noise.
    await Console.Error.WriteLineAsync($"region-generator: {ex.Message}");
    return 2;
}
