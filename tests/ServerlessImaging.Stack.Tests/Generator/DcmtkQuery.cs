using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessImaging.Stack.Tests.Generator;

/// <summary>
/// Study-root C-FIND through dcmtk's findscu, answers extracted to files (-X) and read back with
/// dcmdump +U8 (an independent decoder that converts every character set to UTF-8).
/// findscu exits 0 even when the PACS refuses the association, so refusals are detected in its log.
/// </summary>
internal static partial class DcmtkQuery
{
    public static async Task<IReadOnlyList<Dictionary<string, string>>> FindAsync(
        string host, int port, string calledAe, string level, IReadOnlyDictionary<string, string> keys, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("si-findscu-");
        try
        {
            var args = new List<string> { "-S", "-aet", "SI_TEST", "-aec", calledAe, "-X", "-od", dir.FullName, "-k", "QueryRetrieveLevel=" + level, "-k", "SpecificCharacterSet=ISO_IR 192" };
            foreach (var (k, v) in keys)
            {
                args.Add("-k");
                args.Add(v.Length == 0 ? k : k + "=" + v);
            }
            args.Add(host);
            args.Add(port.ToString(CultureInfo.InvariantCulture));
            var (exit, output) = await RunAsync("findscu", args, ct);
            if (exit != 0 || output.Contains("E: ", StringComparison.Ordinal) || output.Contains("Association Rejected", StringComparison.Ordinal)
                || output.Contains("Failed", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"findscu against {calledAe}@{host}:{port} failed (exit {exit}):\n{output}");
            }
            var results = new List<Dictionary<string, string>>();
            foreach (var file in Directory.GetFiles(dir.FullName, "rsp*.dcm").Order(StringComparer.Ordinal))
            {
                var (dumpExit, dump) = await RunAsync("dcmdump", ["+U8", "-q", "+L", file], ct);
                if (dumpExit != 0)
                {
                    throw new InvalidOperationException($"dcmdump could not read a findscu answer:\n{dump}");
                }
                results.Add(ParseDump(dump));
            }
            return results;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Top-level elements of a dcmdump listing, keyword → value (multi-values joined by '\').</summary>
    internal static Dictionary<string, string> ParseDump(string dump)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in dump.Split('\n'))
        {
            var m = DumpLine().Match(line);
            if (!m.Success)
            {
                continue;
            }
            var raw = m.Groups["value"].Value;
            var value = raw.StartsWith('[') ? raw[1..raw.LastIndexOf(']')] : raw.StartsWith('(') ? "" : raw;
            map[m.Groups["keyword"].Value] = value;
        }
        return map;
    }

    [GeneratedRegex(@"^\((?<g>[0-9a-f]{4}),(?<e>[0-9a-f]{4})\) (?<vr>[A-Z][A-Z]) (?<value>.*?)\s+#\s*\d+,\s*\d+\s+(?<keyword>\w+)\s*$")]
    private static partial Regex DumpLine();

    private static async Task<(int Exit, string Output)> RunAsync(string tool, IEnumerable<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.Environment["TCP_NODELAY"] = "1";
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return (p.ExitCode, await stdout + await stderr);
    }
}
