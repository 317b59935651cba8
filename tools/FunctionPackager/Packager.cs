using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;

namespace ServerlessImaging.FunctionPackager;

/// <summary>Lays out the deployable folder: host.json, one folder per function with its function.json, and the published app.</summary>
public static class Packager
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes host.json and the function folders into <paramref name="output"/>.</summary>
    public static async Task WriteFunctionsAsync(string repositoryRoot, string output, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(output);
        File.Copy(Path.Combine(repositoryRoot, "host.json"), Path.Combine(output, "host.json"), overwrite: true);
        foreach (var (name, definition) in FunctionDefinitions.All())
        {
            var folder = Path.Combine(output, name);
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "function.json"), definition.ToJsonString(Indented) + "\n", cancellationToken);
        }
    }

    /// <summary>Publishes the app self-contained for linux-x64 into <paramref name="output"/> (the executable host.json names).</summary>
    public static async Task PublishAppAsync(string repositoryRoot, string output, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        foreach (var argument in new[]
        {
            "publish", Path.Combine(repositoryRoot, "functions", "ServerlessImaging.FunctionApp", "ServerlessImaging.FunctionApp.csproj"),
            "-c", "Release", "-r", "linux-x64", "--self-contained", "true", "-p:PublishSingleFile=false", "-o", output, "--nologo",
        })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed with exit code {process.ExitCode}.");
        }
    }

    /// <summary>Zips the folder (the shape a zip/one-deploy expects: host.json at the root).</summary>
    public static void Zip(string folder, string zipPath)
    {
        if (File.Exists(zipPath))
        {
            File.Delete(zipPath);
        }

        ZipFile.CreateFromDirectory(folder, zipPath, CompressionLevel.Optimal, includeBaseDirectory: false);
    }
}
