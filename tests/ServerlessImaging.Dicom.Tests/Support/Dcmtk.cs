using System.Diagnostics;

namespace ServerlessImaging.Dicom.Tests.Support;

/// <summary>Runs a dcmtk tool and captures its output, with a deadline.</summary>
internal static class Dcmtk
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static async Task<Result> RunAsync(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DCMDICTPATH"] = "/usr/share/libdcmtk17/dicom.dic";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start (is dcmtk installed?)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
