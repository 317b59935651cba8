using System.Diagnostics;

namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>Runs dcmtk command-line tools with TCP_NODELAY=1 and a deadline.</summary>
public static class Dcmtk
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string All => StdOut + StdErr;
    }

    public static async Task<Result> RunAsync(string tool, IEnumerable<string> args, TimeSpan? deadline = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        psi.Environment["DCMDICTPATH"] = "/usr/share/libdcmtk17/dicom.dic";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish before its deadline.");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Copies a corpus file with fresh study/series/instance UIDs and the given patient fields (dcmodify updates the file meta too).</summary>
    public static async Task<string> MakeUniqueCopyAsync(string corpusFile, string directory, string studyUid, string seriesUid, string instanceUid,
        string? patientName = null, string? patientId = null, string? characterSet = null, string? studyDate = null)
    {
        Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, instanceUid + ".dcm");
        File.Copy(Path.Combine(ServerlessImaging.Testing.Dcmtk.DicomTestFiles.CorpusDirectory(ServerlessImaging.Testing.Stack.RepositoryRoot.Find()), corpusFile), target, overwrite: true);
        var args = new List<string> { "-nb", "-ie",
            "-i", $"(0020,000D)={studyUid}", "-i", $"(0020,000E)={seriesUid}", "-m", $"(0008,0018)={instanceUid}" };
        if (characterSet is not null) args.AddRange(["-i", $"(0008,0005)={characterSet}"]);
        if (patientName is not null) args.AddRange(["-i", $"(0010,0010)={patientName}"]);
        if (patientId is not null) args.AddRange(["-i", $"(0010,0020)={patientId}"]);
        if (studyDate is not null) args.AddRange(["-i", $"(0008,0020)={studyDate}"]);
        args.Add(target);
        var r = await RunAsync("dcmodify", args);
        if (r.ExitCode != 0) throw new InvalidOperationException("dcmodify failed: " + r.All);
        return target;
    }

    public static string NewUid() => "2.25." + new System.Numerics.BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true);
}
