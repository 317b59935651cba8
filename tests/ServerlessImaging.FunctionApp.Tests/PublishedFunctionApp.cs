using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The Functions app as <c>dotnet publish</c> packages it, into a temporary folder: what the Functions host reads
/// (<c>functions.metadata</c>, <c>host.json</c>, <c>worker.config.json</c>, <c>extensions.json</c>, <c>.azurefunctions/</c>).
/// Published with <c>--no-build</c> from the build <c>dotnet test</c> just made (this project references the app), in the
/// same configuration: about 2 s, where a publish that builds takes about 8 s more when everything is up to date (80 s
/// cold: the Worker Sdk's inner extensions project) and would write into the app's obj/ while other test projects run.
/// </summary>
public sealed class PublishedFunctionApp : IDisposable
{
    /// <summary>The test collection sharing one publish.</summary>
    public const string CollectionName = "Published function app";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);

    public PublishedFunctionApp()
    {
        var metadata = typeof(PublishedFunctionApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        RepositoryRoot = metadata["RepositoryRoot"]!;
        Directory = Path.Combine(Path.GetTempPath(), "si-functionapp-publish-" + Guid.NewGuid().ToString("N"));
        var watch = Stopwatch.StartNew();
        Publish(metadata["FunctionAppProject"]!, metadata["Configuration"]!, Directory);
        PublishDuration = watch.Elapsed;

        using var functions = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "functions.metadata")));
        Functions = [.. functions.RootElement.EnumerateArray().Select(f => new PublishedFunction(
            f.GetProperty("name").GetString()!,
            f.GetProperty("entryPoint").GetString()!,
            [.. f.GetProperty("bindings").EnumerateArray().Select(b => b.Clone())]))];
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "host.json")), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        HostJson = hostJson.RootElement.Clone();
    }

    /// <summary>The publish folder.</summary>
    public string Directory { get; }

    /// <summary>The repository (for the files the package must agree with).</summary>
    public string RepositoryRoot { get; }

    /// <summary>How long the publish took.</summary>
    public TimeSpan PublishDuration { get; }

    /// <summary>Every function of <c>functions.metadata</c>.</summary>
    public IReadOnlyList<PublishedFunction> Functions { get; }

    /// <summary>The published <c>host.json</c>.</summary>
    public JsonElement HostJson { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static void Publish(string project, string configuration, string output)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "publish", project, "-c", configuration, "--no-build", "--disable-build-servers", "-o", output, "-nologo" })
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables (set when tests run inside an IDE or MSBuild) must not steer the child build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(PublishTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish did not finish within {PublishTimeout}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        }
    }
}

/// <summary>One function of <c>functions.metadata</c>.</summary>
public sealed record PublishedFunction(string Name, string EntryPoint, IReadOnlyList<JsonElement> Bindings)
{
    /// <summary>The trigger binding (the one whose type ends with "Trigger").</summary>
    public JsonElement Trigger => Assert.Single(Bindings, b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>The trigger's type.</summary>
    public string TriggerType => Trigger.GetProperty("type").GetString()!;

    /// <summary>A string property of the trigger, null when absent.</summary>
    public string? TriggerProperty(string name) => Trigger.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The bindings of a type, in order.</summary>
    public IEnumerable<JsonElement> BindingsOfType(string type) => Bindings.Where(b => b.GetProperty("type").GetString() == type);
}

/// <summary>One publish for every test class that reads the package.</summary>
[CollectionDefinition(PublishedFunctionApp.CollectionName)]
public sealed class PublishedFunctionAppTests : ICollectionFixture<PublishedFunctionApp>;
