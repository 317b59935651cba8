namespace ServerlessImaging.Dicom.Tests.Support;

/// <summary>Finds the repository root (holding ServerlessImaging.sln) and the shared DICOM corpus beside it.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Corpus => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "dicom-corpus"));

    public static IEnumerable<string> CorpusFiles =>
        Directory.Exists(Corpus)
            ? Directory.GetFiles(Corpus, "*.dcm").OrderBy(f => f, StringComparer.Ordinal)
            : throw new DirectoryNotFoundException($"DICOM corpus not found at {Corpus}");

    public static string CasesDir => Path.Combine(AppContext.BaseDirectory, "Cases");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new DirectoryNotFoundException("Repository root (ServerlessImaging.sln) not found above the test directory");
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "si-dicom-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
