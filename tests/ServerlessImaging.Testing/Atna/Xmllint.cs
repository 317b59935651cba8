using System.Diagnostics;

namespace ServerlessImaging.Testing.Atna;

/// <summary>libxml2's xmllint (Debian libxml2-utils, installed by tools/stack): RELAX NG validation of files.</summary>
public static class Xmllint
{
    /// <summary>The DICOM audit message schema (PS3.15 A.5.1) in the repository.</summary>
    public static string SchemaPath(string repositoryRoot) =>
        Path.Combine(repositoryRoot, "functions", "ServerlessImaging.Orchestration", "Audit", "Atna", "dicom-audit-message.rng");

    /// <summary>Runs <c>xmllint --noout --relaxng schema files…</c>; returns its exit code and what it printed (it reports on stderr).</summary>
    public static async Task<(int ExitCode, string Output)> ValidateAsync(string schemaPath, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("xmllint")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--noout");
        startInfo.ArgumentList.Add("--relaxng");
        startInfo.ArgumentList.Add(schemaPath);
        foreach (var file in files)
        {
            startInfo.ArgumentList.Add(file);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start xmllint.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
