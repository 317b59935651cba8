namespace ServerlessImaging.RegionGenerator.Cli;

/// <summary>Default locations relative to the repository root (found by walking up to ServerlessImaging.sln).</summary>
public static class RepositoryPaths
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
            {
                return dir.FullName;
            }
        }
        return Environment.CurrentDirectory;
    }

    public static string DefaultRegionDirectory(ulong seed) =>
        Path.Combine(Root(), ".local", "region", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string StackJson() => Path.Combine(Root(), ".local", "stack", "stack.json");
}
