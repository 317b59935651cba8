using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ServerlessImaging.DimseBench;

/// <summary>A generated study on disk.</summary>
internal sealed record GeneratedStudy(string StudyUid, string Directory, IReadOnlyList<string> Files, long Bytes);

/// <summary>Arguments handed to a child process that runs one of our transfers.</summary>
internal sealed record OursArgs(string Host, int Port, string CallingAe, string CalledAe, string StudyUid, int Expected,
    string? Directory = null, IReadOnlyList<string>? Files = null, int ScpPort = 0);

/// <summary>One round of the three phases, ours and dcmtk, each in a fresh process.</summary>
internal static class Runner
{
    public static async Task<GeneratedStudy> GenerateAsync(string directory, int count)
    {
        var (code, stdout, stderr) = await RunSelfAsync(["generate", directory, count.ToString(CultureInfo.InvariantCulture)]);
        if (code != 0) throw new InvalidOperationException("generation failed: " + stderr);
        var files = System.IO.Directory.GetFiles(directory, "*.dcm").Order(StringComparer.Ordinal).ToList();
        return new GeneratedStudy(stdout.Trim(), directory, files, files.Sum(f => new FileInfo(f).Length));
    }

    public static async Task<List<(string Name, (Measure.Result Ours, Measure.Result Dcmtk) Pair)>> RoundAsync(
        BenchEnvironment env, string root, int n, GeneratedStudy mine, GeneratedStudy theirs, bool oursFirst)
    {
        var rows = new List<(string, (Measure.Result, Measure.Result))>();
        var inv = CultureInfo.InvariantCulture;

        // 1. C-STORE SCU into Orthanc; two distinct studies so that neither run hits Orthanc's "already stored" shortcut.
        var storeArgs = new OursArgs(env.Host, env.PacsPort, env.BenchAe, env.PacsAe, mine.StudyUid, n, Files: mine.Files);
        rows.Add(("C-STORE SCU -> Orthanc", await PairAsync(oursFirst,
            () => OursAsync("store", storeArgs, mine.Bytes, n),
            () => Measure.ToolAsync(theirs.Bytes, n, "storescu", ["-aet", env.BenchAe, "-aec", env.PacsAe, "-xs", env.Host, env.PacsPort.ToString(inv), .. theirs.Files]))));

        // 2. C-GET from Orthanc into a directory.
        var getOurs = Fresh(root, "get-ours");
        var getDcmtk = Fresh(root, "get-dcmtk");
        var getArgs = new OursArgs(env.Host, env.PacsPort, env.BenchAe, env.PacsAe, mine.StudyUid, n, Directory: getOurs);
        rows.Add(("C-GET SCU <- Orthanc  ", await PairAsync(oursFirst,
            () => OursAsync("get", getArgs, mine.Bytes, n),
            async () =>
            {
                var r = await Measure.ToolAsync(mine.Bytes, n, "getscu", ["-aet", env.BenchAe, "-aec", env.PacsAe, "-S", "-od", getDcmtk,
                    "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={mine.StudyUid}", env.Host, env.PacsPort.ToString(inv)]);
                if (System.IO.Directory.GetFiles(getDcmtk).Length != n) throw new InvalidOperationException("getscu did not receive every instance");
                return r;
            })));

        // 3. C-MOVE from Orthanc into an SCP: our DicomServer vs storescp (the move SCU is ours in both runs).
        var moveOurs = Fresh(root, "move-ours");
        var moveDcmtk = Fresh(root, "move-dcmtk");
        var moveArgs = new OursArgs(env.Host, env.PacsPort, env.BenchAe, env.PacsAe, mine.StudyUid, n, Directory: moveOurs, ScpPort: env.BenchPort);
        rows.Add(("C-MOVE Orthanc -> SCP ", await PairAsync(oursFirst,
            () => OursAsync("move", moveArgs, mine.Bytes, n),
            () => Measure.ExternalScpAsync(mine.Bytes, n, "storescp", ["-aet", env.BenchAe, "-od", moveDcmtk, "-uf", env.BenchPort.ToString(inv)], env.BenchPort,
                () => ChildCommands.MoveAsync(moveArgs)))));
        foreach (var d in new[] { getOurs, getDcmtk, moveOurs, moveDcmtk }) System.IO.Directory.Delete(d, recursive: true);
        return rows;
    }

    private static string Fresh(string root, string name)
    {
        var dir = Path.Combine(root, name);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        return System.IO.Directory.CreateDirectory(dir).FullName;
    }

    private static async Task<(Measure.Result, Measure.Result)> PairAsync(bool oursFirst, Func<Task<Measure.Result>> ours, Func<Task<Measure.Result>> dcmtk)
    {
        if (oursFirst)
        {
            var o = await ours();
            return (o, await dcmtk());
        }
        var d = await dcmtk();
        return (await ours(), d);
    }

    private static async Task<Measure.Result> OursAsync(string phase, OursArgs args, long bytes, int n)
    {
        var (code, stdout, stderr) = await RunSelfAsync(["ours", phase, JsonSerializer.Serialize(args)]);
        if (code != 0) throw new InvalidOperationException($"our {phase} failed: {stderr}");
        var parts = stdout.Trim().Split(' ');
        return new Measure.Result(n, bytes, TimeSpan.FromTicks(long.Parse(parts[0], CultureInfo.InvariantCulture)), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static async Task<(int Code, string StdOut, string StdErr)> RunSelfAsync(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Under `dotnet run` / `dotnet ServerlessImaging.DimseBench.dll` the process path is the dotnet host: pass the assembly first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(Runner).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
