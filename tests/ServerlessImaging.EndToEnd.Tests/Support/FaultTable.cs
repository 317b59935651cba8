using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>One row of the table: a fault, what must happen, what did, whether the system survived it.</summary>
public sealed record FaultResult(string Fault, string Expected, string Observed, bool Survived, double DurationSeconds);

/// <summary>
/// The table of faults survived: every fault test runs through <see cref="RunAsync"/>, which records its row (survived or
/// not, with the failure's first line) in .local/fault-suite/results.json and results.md after each test, so a partial run
/// still leaves a table. tools/fault-suite and tools/test print results.md.
/// </summary>
public sealed class FaultTable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly List<FaultResult> rows = [];
    private readonly string directory = Path.Combine(RepositoryRoot.Find(), ".local", "fault-suite");

    public FaultTable()
    {
        Directory.CreateDirectory(directory);
        File.Delete(JsonPath);
        File.Delete(MarkdownPath);

        // Logs and private stand-ins' data of earlier runs; an hour's margin spares a run still going on.
        Directory.CreateDirectory(Path.Combine(directory, "logs"));
        foreach (var old in Directory.GetDirectories(Path.Combine(directory, "logs")).Concat(Directory.GetDirectories(directory, "pacs-*")).Concat(Directory.GetDirectories(directory, "azurite-*")))
        {
            if (Directory.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddHours(-1))
            {
                Directory.Delete(old, recursive: true);
            }
        }
    }

    public string JsonPath => Path.Combine(directory, "results.json");

    public string MarkdownPath => Path.Combine(directory, "results.md");

    /// <summary>Runs one fault test; <paramref name="test"/> returns the observed outcome (it throws when the system did not survive).</summary>
    public async Task RunAsync(string fault, string expected, Func<Task<string>> test)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var observed = await test();
            Add(new FaultResult(fault, expected, observed, true, Math.Round(clock.Elapsed.TotalSeconds, 1)));
        }
        catch (Exception ex)
        {
            var firstLine = ex.Message.Split('\n')[0].Trim();
            Add(new FaultResult(fault, expected, ex.GetType().Name + ": " + firstLine, false, Math.Round(clock.Elapsed.TotalSeconds, 1)));
            throw;
        }
    }

    public static string ToMarkdown(IReadOnlyList<FaultResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Faults survived: {results.Count(r => r.Survived)} of {results.Count}");
        text.AppendLine();
        text.AppendLine("| fault | expected | observed | survived | duration |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(r.Fault)} | {Cell(r.Expected)} | {Cell(r.Observed)} | {(r.Survived ? "yes" : "**no**")} | {r.DurationSeconds:0.0} s |");
        }

        return text.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private void Add(FaultResult result)
    {
        lock (rows)
        {
            rows.Add(result);
            File.WriteAllText(JsonPath, JsonSerializer.Serialize(rows, Json));
            File.WriteAllText(MarkdownPath, ToMarkdown(rows));
        }
    }
}

/// <summary>All fault tests run one after another (each starts processes and owns ports); the stack and the table are shared.</summary>
[CollectionDefinition(Name)]
public sealed class FaultSuite : ICollectionFixture<LocalStackFixture>, ICollectionFixture<FaultTable>, ICollectionFixture<SharedRig>
{
    public const string Name = "fault suite";
}
