namespace ServerlessImaging.LocalRun;

/// <summary>Where things are in the repository and under <c>.local/</c>.</summary>
internal sealed record RepositoryPaths(string Root)
{
    public string StackJson => Path.Combine(Root, ".local", "stack", "stack.json");

    public string StackScript => Path.Combine(Root, "tools", "stack");

    public string GenerateRegionScript => Path.Combine(Root, "tools", "generate-region");

    public string RunDirectory => Path.Combine(Root, ".local", "run");

    public string LogDirectory => Path.Combine(RunDirectory, "logs");

    public string PidDirectory => Path.Combine(RunDirectory, "pids");

    public string StackPidDirectory => Path.Combine(Root, ".local", "stack", "pids");

    /// <summary>The app as <c>tools/run-local</c> and <c>tools/end-to-end-bench</c> publish it (ReadyToRun, as it is deployed).</summary>
    public string AppAssembly => Path.Combine(Root, ".local", "publish", "app", "ServerlessImaging.StandaloneHost.dll");

    /// <summary>The relay as those scripts publish it (ReadyToRun, as sites install it).</summary>
    public string RelayAssembly => Path.Combine(Root, ".local", "publish", "relay", "si-relay.dll");

    public string ManifestOf(ulong seed) => Path.Combine(Root, ".local", "region", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "manifest.json");

    /// <summary>The repository root: the nearest directory holding ServerlessImaging.sln.</summary>
    public static RepositoryPaths Discover()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
            {
                return new RepositoryPaths(dir.FullName);
            }
        }

        throw new LocalRunException("run from inside the repository (no ServerlessImaging.sln found above the current directory)");
    }
}
