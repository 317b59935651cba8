using System.Diagnostics;
using System.Globalization;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.DimseBench;

// Usage: DimseBench [sizes...]   (default: 100 1000). Needs the local stack (tools/stack up) and dcmtk on PATH.
var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [100, 1000];
var env = BenchEnvironment.FromStack();
Console.WriteLine($"DimseBench: Orthanc {env.PacsAe}@{env.Host}:{env.PacsPort}, destination AE {env.BenchAe}:{env.BenchPort}, TCP_NODELAY=1 for dcmtk");
Console.WriteLine();
var rows = new List<string>();
foreach (var n in sizes)
{
    var root = Directory.CreateTempSubdirectory($"dimsebench-{n}-").FullName;
    try
    {
        Console.WriteLine($"== {n} instances of 512x512x16-bit ==");
        var ours = await StudyGenerator.GenerateAsync(Path.Combine(root, "study-ours"), n);
        var theirs = await StudyGenerator.GenerateAsync(Path.Combine(root, "study-dcmtk"), n);
        var client = new DicomClient(new DicomClientOptions { Host = env.Host, Port = env.PacsPort, CallingAeTitle = env.BenchAe, CalledAeTitle = env.PacsAe });

        // 1. C-STORE SCU into Orthanc (distinct studies so neither run hits "already stored").
        var storeOurs = await Measure.InProcessAsync(ours.Bytes, n, async () =>
        {
            var r = await client.StoreAsync(ours.Files);
            Require(r.All(x => x.Succeeded), "our C-STORE had failures");
        });
        var storeDcmtk = await Measure.ToolAsync(theirs.Bytes, n, "storescu", ["-aet", env.BenchAe, "-aec", env.PacsAe, "-xs", env.Host, Inv(env.PacsPort), .. theirs.Files]);
        rows.Add(Report($"C-STORE SCU -> Orthanc  ({n})", storeOurs, storeDcmtk, "storescu"));

        // 2. C-GET from Orthanc.
        var getOursDir = Path.Combine(root, "get-ours");
        var getOurs = await Measure.InProcessAsync(ours.Bytes, n, async () =>
        {
            var (level, keys) = DicomClient.RetrieveKeys(ours.StudyUid);
            var r = await client.GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(getOursDir));
            Require(r.Received.Count == n, $"our C-GET received {r.Received.Count}/{n}");
        });
        var getDcmtkDir = Directory.CreateDirectory(Path.Combine(root, "get-dcmtk")).FullName;
        var getDcmtk = await Measure.ToolAsync(ours.Bytes, n, "getscu", ["-aet", env.BenchAe, "-aec", env.PacsAe, "-S", "-od", getDcmtkDir,
            "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={ours.StudyUid}", env.Host, Inv(env.PacsPort)]);
        Require(Directory.GetFiles(getDcmtkDir).Length == n, "getscu did not receive every instance");
        rows.Add(Report($"C-GET SCU <- Orthanc    ({n})", getOurs, getDcmtk, "getscu"));

        // 3. C-MOVE from Orthanc into our SCP vs into storescp (the move SCU is ours in both runs; the SCP is what differs).
        var moveOursDir = Path.Combine(root, "move-ours");
        Measure.Result moveOurs;
        await using (var scp = DicomServer.Start(new DicomServerOptions { AeTitle = env.BenchAe, Port = env.BenchPort }, new DirectoryInstanceSink(moveOursDir)))
        {
            moveOurs = await Measure.InProcessAsync(ours.Bytes, n, async () =>
            {
                var (level, keys) = DicomClient.RetrieveKeys(ours.StudyUid);
                var r = await client.MoveAsync(QueryModel.StudyRoot, level, keys, env.BenchAe);
                Require(r.Progress.Completed == n, $"move into our SCP completed {r.Progress.Completed}/{n}");
            });
        }
        var moveDcmtkDir = Directory.CreateDirectory(Path.Combine(root, "move-dcmtk")).FullName;
        var moveDcmtk = await Measure.ExternalScpAsync(ours.Bytes, n, "storescp", ["-aet", env.BenchAe, "-od", moveDcmtkDir, "-uf", Inv(env.BenchPort)], env.BenchPort, async () =>
        {
            var (level, keys) = DicomClient.RetrieveKeys(ours.StudyUid);
            var r = await client.MoveAsync(QueryModel.StudyRoot, level, keys, env.BenchAe);
            Require(r.Progress.Completed == n, $"move into storescp completed {r.Progress.Completed}/{n}");
        });
        rows.Add(Report($"C-MOVE Orthanc -> SCP   ({n})", moveOurs, moveDcmtk, "storescp"));

        await Orthanc.DeleteStudiesAsync(env, [ours.StudyUid, theirs.StudyUid]);
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
    Console.WriteLine();
}
Console.WriteLine("Summary (ratio = ours / dcmtk instances per second; >= 1.0 means we are at least as fast):");
rows.ForEach(Console.WriteLine);
return 0;

static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

static void Require(bool condition, string message)
{
    if (!condition) throw new InvalidOperationException(message);
}

static string Report(string name, Measure.Result ours, Measure.Result dcmtk, string tool)
{
    var line = string.Create(CultureInfo.InvariantCulture,
        $"{name}: ours {ours.InstancesPerSecond,7:0.0} inst/s {ours.MegabytesPerSecond,7:0.0} MB/s peak {ours.PeakMegabytes,6:0} MB | {tool} {dcmtk.InstancesPerSecond,7:0.0} inst/s {dcmtk.MegabytesPerSecond,7:0.0} MB/s peak {dcmtk.PeakMegabytes,6:0} MB | ratio {ours.InstancesPerSecond / dcmtk.InstancesPerSecond:0.00}x");
    Console.WriteLine(line);
    return line;
}
