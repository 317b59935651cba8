using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;

namespace ServerlessImaging.Infra.Tests.Bicep;

/// <summary>
/// The infra/ folder of the repository, and a private copy of it in a temporary directory where
/// every command writes its output (compiled ARM JSON and snapshots are never written into the
/// repository). Snapshots are computed once per parameter file and shared by the tests.
/// </summary>
public static class InfraWorkspace
{
    /// <summary>Fixed deployment scope for snapshots, so predicted names are reproducible.</summary>
    public const string SubscriptionId = "00000000-0000-0000-0000-000000000000";
    public const string TenantId = "11111111-1111-1111-1111-111111111111";
    public const string ResourceGroup = "rg-serverless-imaging";
    public const string Location = "francecentral";

    private static readonly Lazy<string> Copy = new(CreateCopy, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, Lazy<Task<DeploymentSnapshot>>> Snapshots = new(StringComparer.Ordinal);

    /// <summary>The infra/ folder in the repository (read-only for the tests).</summary>
    public static string SourceDirectory { get; } = typeof(InfraWorkspace).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "InfraDirectory").Value!;

    /// <summary>The temporary copy commands run in.</summary>
    public static string WorkingDirectory => Copy.Value;

    /// <summary>Every .bicep file under infra/, relative to it, so new files are covered without editing tests.</summary>
    public static TheoryData<string> BicepFiles => ToTheoryData(Discover("*.bicep"));

    /// <summary>Every .bicepparam file under infra/, relative to it.</summary>
    public static TheoryData<string> ParameterFiles => ToTheoryData(Discover("*.bicepparam"));

    /// <summary>Absolute path of a file in the working copy.</summary>
    public static string PathOf(string relativePath) => Path.Combine(WorkingDirectory, relativePath);

    /// <summary>A fresh output directory inside the working copy's temp root (outside infra/).</summary>
    public static string NewOutputDirectory()
    {
        var directory = Path.Combine(Path.GetDirectoryName(WorkingDirectory)!, "out", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Adds a parameter file to the working copy (for scenarios the committed files do not cover).</summary>
    public static string AddParameterFile(string relativePath, string content)
    {
        var path = PathOf(relativePath);
        File.WriteAllText(path, content);
        return relativePath;
    }

    /// <summary>
    /// Adds a test parameter file for <paramref name="sites"/> (Bicep site objects, one per line) with the settings a
    /// test deployment always takes; <paramref name="more"/> adds or overrides parameters (<c>param x = …</c> lines).
    /// </summary>
    public static string AddTestParameterFile(string relativePath, IEnumerable<string> sites, params string[] more) =>
        AddParameterFile(relativePath, string.Join('\n', new[]
        {
            "using '../main.bicep'",
            string.Empty,
            "param environmentName = 'test'",
            "param namePrefix = 'simg'",
            "param sites = [",
        }.Concat(sites.Select(site => "  " + site)).Concat(
        [
            "]",
            "param enablePrivateNetworking = false",
            "param enableCustomerManagedKey = false",
            "param logRetentionInDays = 30",
            "param cosmosServerless = true",
            "param cosmosBackupTier = 'Continuous7Days'",
            "param zoneRedundant = false",
            "param apiAudience = 'api://serverless-imaging-test'",
            "param smtpHost = 'smtp.test.example'",
            "param smtpPort = 465",
            "param smtpSecurity = 'SslOnConnect'",
            "param smtpFrom = 'rcp@test.example'",
            "param viewerStudyUrlTemplate = 'https://viewer.test.example/{StudyInstanceUID}'",
        ]).Concat(more)) + "\n");

    /// <summary>
    /// What Azure would deploy for a parameter file (bicep snapshot: every name, property and
    /// loop evaluated offline; values only known at deployment remain ARM expressions).
    /// </summary>
    public static Task<DeploymentSnapshot> SnapshotAsync(string parameterFile) =>
        Snapshots.GetOrAdd(parameterFile, file => new Lazy<Task<DeploymentSnapshot>>(() => TakeSnapshotAsync(file))).Value;

    /// <summary>The parameter values a .bicepparam file resolves to (bicep build-params).</summary>
    public static async Task<JsonObject> ParameterValuesAsync(string parameterFile)
    {
        var output = Path.Combine(NewOutputDirectory(), "parameters.json");
        var result = await BicepCli.RunAsync(WorkingDirectory, "build-params", PathOf(parameterFile), "--outfile", output);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"build-params failed for {parameterFile}:\n{result.Output}");
        }

        var parameters = JsonNode.Parse(await File.ReadAllTextAsync(output))!["parameters"]!.AsObject();
        return parameters;
    }

    private static async Task<DeploymentSnapshot> TakeSnapshotAsync(string parameterFile)
    {
        var path = PathOf(parameterFile);
        var result = await BicepCli.RunAsync(
            WorkingDirectory,
            "snapshot", path,
            "--mode", "overwrite",
            "--subscription-id", SubscriptionId,
            "--tenant-id", TenantId,
            "--resource-group", ResourceGroup,
            "--location", Location);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep snapshot failed for {parameterFile}:\n{result.Output}");
        }

        var snapshotPath = Path.ChangeExtension(path, ".snapshot.json");
        return DeploymentSnapshot.Parse(await File.ReadAllTextAsync(snapshotPath));
    }

    /// <summary>Files under infra/ matching a pattern, relative to it, in a stable order.</summary>
    public static IReadOnlyList<string> Discover(string pattern) =>
        Directory.EnumerateFiles(SourceDirectory, pattern, SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(SourceDirectory, file).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static TheoryData<string> ToTheoryData(IEnumerable<string> items)
    {
        var data = new TheoryData<string>();
        foreach (var item in items)
        {
            data.Add(item);
        }

        return data;
    }

    private static string CreateCopy()
    {
        var root = Directory.CreateTempSubdirectory("si-infra-tests-").FullName;
        var target = Path.Combine(root, "infra");
        foreach (var file in Directory.EnumerateFiles(SourceDirectory, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            var isSource = name.EndsWith(".bicep", StringComparison.Ordinal)
                || name.EndsWith(".bicepparam", StringComparison.Ordinal)
                || name == "bicepconfig.json";
            if (!isSource)
            {
                continue; // stray build output in the repository must not influence the tests
            }

            var destination = Path.Combine(target, Path.GetRelativePath(SourceDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return target;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the OS cleans temp eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
