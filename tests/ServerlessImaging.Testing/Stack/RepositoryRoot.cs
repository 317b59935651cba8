namespace ServerlessImaging.Testing.Stack;

/// <summary>Locates the repository by walking up from the test binaries to ServerlessImaging.sln.</summary>
public static class RepositoryRoot
{
    public const string SolutionFileName = "ServerlessImaging.sln";

    public static string Find() => Find(AppContext.BaseDirectory);

    public static string Find(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException(
            $"No {SolutionFileName} in {startDirectory} or any parent; run the tests from inside the repository.");
    }
}
