using ServerlessImaging.FunctionPackager;

// Usage: FunctionPackager [--output dir] [--zip file] [--functions-only]
// Defaults: --output .local/package/app, --zip .local/package/serverless-imaging.zip.
var root = FindRepositoryRoot();
var output = Option("--output") ?? Path.Combine(root, ".local", "package", "app");
var zip = Option("--zip") ?? Path.Combine(root, ".local", "package", "serverless-imaging.zip");
var functionsOnly = args.Contains("--functions-only", StringComparer.Ordinal);

if (Directory.Exists(output))
{
    Directory.Delete(output, recursive: true);
}

await Packager.WriteFunctionsAsync(root, output, CancellationToken.None);
if (!functionsOnly)
{
    await Packager.PublishAppAsync(root, output, CancellationToken.None);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(zip))!);
    Packager.Zip(output, zip);
    Console.WriteLine($"Package: {zip}");
}

Console.WriteLine($"Folder: {output} (functions: {string.Join(", ", FunctionDefinitions.All().Keys)})");
return 0;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "ServerlessImaging.sln")))
        {
            return directory.FullName;
        }
    }

    throw new DirectoryNotFoundException("Run from inside the repository (ServerlessImaging.sln not found).");
}
