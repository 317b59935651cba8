using System.Globalization;
using ServerlessImaging.DimseBench;

// Usage:
//   DimseBench [--rounds R] [sizes...]          (default: 3 rounds of 100 then 1000). Needs the local stack and dcmtk on PATH.
//   DimseBench generate <dir> <count>           (child: writes a study, prints its Study Instance UID)
//   DimseBench ours <phase> <json-args>         (child: runs one of our transfers, prints elapsed and peak memory)
// Every measured transfer runs in a fresh process, ours as well as dcmtk's, so the peak resident set (VmHWM) is that of the
// transfer alone: study generation and earlier rounds cannot inflate it.
if (args.Length > 0 && args[0] == "generate") return await ChildCommands.GenerateAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
if (args.Length > 0 && args[0] == "ours") return await ChildCommands.RunOursAsync(args[1], args[2]);

var rounds = 3;
var sizes = new List<int>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--rounds") rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else sizes.Add(int.Parse(args[i], CultureInfo.InvariantCulture));
}
if (sizes.Count == 0) sizes = [100, 1000];
var env = BenchEnvironment.FromStack();
Console.WriteLine($"DimseBench: Orthanc {env.PacsAe}@{env.Host}:{env.PacsPort}, destination AE {env.BenchAe}:{env.BenchPort}, {rounds} interleaved rounds, TCP_NODELAY=1 for dcmtk");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine();
var summary = new List<string>();
foreach (var n in sizes)
{
    var root = Directory.CreateTempSubdirectory($"dimsebench-{n}-").FullName;
    try
    {
        Console.WriteLine($"== {n} instances of 512x512x16-bit ==");
        var studies = new[] { await Runner.GenerateAsync(Path.Combine(root, "a"), n), await Runner.GenerateAsync(Path.Combine(root, "b"), n) };
        var table = new Dictionary<string, List<(Measure.Result Ours, Measure.Result Dcmtk)>>();
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which tool goes first and which study each side stores, so neither side always runs on a warm Orthanc.
            var oursFirst = round % 2 == 0;
            var mine = studies[round % 2];
            var theirs = studies[(round + 1) % 2];
            var rows = await Runner.RoundAsync(env, root, n, mine, theirs, oursFirst);
            foreach (var (name, pair) in rows)
            {
                if (!table.TryGetValue(name, out var list)) table[name] = list = [];
                list.Add(pair);
                Console.WriteLine(Report.Line($"  round {round + 1} {name}", pair.Ours, pair.Dcmtk));
            }
            await Orthanc.DeleteStudiesAsync(env, studies.Select(s => s.StudyUid));
        }
        foreach (var (name, list) in table) summary.Add(Report.Summary($"{name} ({n})", list));
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
    Console.WriteLine();
}
Console.WriteLine("Summary (ratio = ours / dcmtk instances per second, >= 1.0 means at least as fast; peak = VmHWM of the transferring process, median):");
summary.ForEach(Console.WriteLine);
return 0;
