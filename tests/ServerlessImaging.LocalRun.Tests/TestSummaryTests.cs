using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ServerlessImaging.LocalRun.Tests;

/// <summary>
/// tools/test-summary.py, the closing line of tools/test, run by python3 as tools/test runs it: on crafted result folders
/// (TRX files shaped like the ones `dotnet test --logger trx` writes) and on the TRX of a real test host that crashed.
/// </summary>
public sealed partial class TestSummaryTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("si-test-summary-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ServerlessImaging.sln not found above " + AppContext.BaseDirectory);
    }

    private sealed record Summary(int ExitCode, IReadOnlyList<string> Lines)
    {
        public string Last => Lines[^1];

        public IReadOnlyList<string> Problems => Lines.Take(Lines.Count - 1).ToList();

        public override string ToString() => $"exit {ExitCode}: " + string.Join(" | ", Lines);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? deadline = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in time: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static async Task<Summary> SummariseAsync(string results, string repositoryRoot)
    {
        var (exit, output) = await RunAsync("python3", [Path.Combine(RepositoryRoot(), "tools", "test-summary.py"), results, repositoryRoot]);
        return new Summary(exit, output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>A repository with test projects A.Tests and B.Tests and a support library that is not a test project.</summary>
    private string FakeRepository()
    {
        var root = Path.Combine(_work, "repo");
        foreach (var project in new[] { "A.Tests", "B.Tests" })
        {
            Directory.CreateDirectory(Path.Combine(root, "tests", project));
            File.WriteAllText(Path.Combine(root, "tests", project, project + ".csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        }

        Directory.CreateDirectory(Path.Combine(root, "tests", "Support"));
        File.WriteAllText(Path.Combine(root, "tests", "Support", "Support.csproj"),
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><IsTestProject>false</IsTestProject></PropertyGroup></Project>");
        return root;
    }

    /// <summary>A TRX as the test platform writes it; the file name, like the real ones, says nothing of the project.</summary>
    private static string WriteTrx(string results, string? assembly, string outcome, int passed, int failed = 0, int skipped = 0, string? runInfo = null)
    {
        Directory.CreateDirectory(results);
        var tests = Enumerable.Range(0, passed).Select(_ => "Passed")
            .Concat(Enumerable.Range(0, failed).Select(_ => "Failed"))
            .Concat(Enumerable.Range(0, skipped).Select(_ => "NotExecuted"))
            .Select((result, i) => (Id: Guid.NewGuid(), Execution: Guid.NewGuid(), Name: $"T.Test{i}", Result: result))
            .ToList();
        var resultElements = string.Concat(tests.Select(t =>
            $"<UnitTestResult executionId=\"{t.Execution}\" testId=\"{t.Id}\" testName=\"{t.Name}\" computerName=\"vm\" outcome=\"{t.Result}\" />"));
        var definitions = assembly is null ? string.Empty : string.Concat(tests.Select(t =>
            $"<UnitTest name=\"{t.Name}\" storage=\"/src/tests/{assembly.ToLowerInvariant()}/bin/debug/net10.0/{assembly.ToLowerInvariant()}.dll\" id=\"{t.Id}\">" +
            $"<Execution id=\"{t.Execution}\" /><TestMethod codeBase=\"/src/tests/{assembly}/bin/Debug/net10.0/{assembly}.dll\" adapterTypeName=\"executor://xunit/VsTestRunner3/netcore/\" className=\"T\" name=\"{t.Name}\" /></UnitTest>"));
        var info = runInfo is null ? string.Empty : $"<RunInfos><RunInfo computerName=\"vm\" outcome=\"Error\" timestamp=\"2026-01-01T00:00:00Z\"><Text>{runInfo}</Text></RunInfo></RunInfos>";
        var trx = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="{Guid.NewGuid()}" name="@vm" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>{resultElements}</Results>
              <TestDefinitions>{definitions}</TestDefinitions>
              <ResultSummary outcome="{outcome}">
                <Counters total="{tests.Count}" executed="{passed + failed}" passed="{passed}" failed="{failed}" error="0" timeout="0" aborted="0" notExecuted="0" />
                {info}
              </ResultSummary>
            </TestRun>
            """;
        var path = Path.Combine(results, $"_vm_{Guid.NewGuid():N}_net10.0.trx");
        File.WriteAllText(path, trx);
        return path;
    }

    [Fact]
    public async Task Every_project_completed_gives_zero_failures_and_exit_0()
    {
        var repo = FakeRepository();
        var results = Path.Combine(_work, "results");
        WriteTrx(results, "A.Tests", "Completed", passed: 3, skipped: 1);
        WriteTrx(results, "B.Tests", "Completed", passed: 2);

        var summary = await SummariseAsync(results, repo);

        Assert.Equal(0, summary.ExitCode);
        Assert.Equal(["5 passed, 0 failed, 1 skipped"], summary.Lines);
    }

    [Fact]
    public async Task A_project_without_a_result_file_is_named_and_counted_as_a_failure()
    {
        var repo = FakeRepository();
        var results = Path.Combine(_work, "results");
        WriteTrx(results, "A.Tests", "Completed", passed: 3);

        var summary = await SummariseAsync(results, repo);

        Assert.Equal(1, summary.ExitCode);
        Assert.Equal(["B.Tests: no result file (test host crashed or the run was cut)"], summary.Problems);
        Assert.Equal("3 passed, 1 failed, 0 skipped", summary.Last);
    }

    [Theory]
    [InlineData("Aborted")]
    [InlineData("Timeout")]
    [InlineData("Error")]
    public async Task A_run_that_did_not_complete_normally_is_a_failure_even_when_its_tests_passed(string outcome)
    {
        var repo = FakeRepository();
        var results = Path.Combine(_work, "results");
        WriteTrx(results, "A.Tests", "Completed", passed: 3);
        WriteTrx(results, "B.Tests", outcome, passed: 2);

        var summary = await SummariseAsync(results, repo);

        Assert.Equal(1, summary.ExitCode);
        Assert.Equal([$"B.Tests: run {outcome} (not a normal completion)"], summary.Problems);
        Assert.Equal("5 passed, 1 failed, 0 skipped", summary.Last);
    }

    [Fact]
    public async Task Failing_tests_are_counted_without_calling_the_run_incomplete()
    {
        var repo = FakeRepository();
        var results = Path.Combine(_work, "results");
        WriteTrx(results, "A.Tests", "Failed", passed: 3, failed: 2);
        WriteTrx(results, "B.Tests", "Completed", passed: 2);

        var summary = await SummariseAsync(results, repo);

        Assert.Equal(1, summary.ExitCode);
        Assert.Empty(summary.Problems);
        Assert.Equal("5 passed, 2 failed, 0 skipped", summary.Last);
    }

    [Fact]
    public async Task An_abort_reported_by_the_test_platform_and_a_second_result_file_are_both_problems()
    {
        var repo = FakeRepository();
        var results = Path.Combine(_work, "results");
        WriteTrx(results, "A.Tests", "Failed", passed: 1, failed: 1, runInfo: "Aborting test run: test run timeout of 1500000 milliseconds exceeded.");
        WriteTrx(results, "B.Tests", "Completed", passed: 2);
        WriteTrx(Path.Combine(results, "again"), "B.Tests", "Completed", passed: 2);

        var summary = await SummariseAsync(results, repo);

        Assert.Equal(1, summary.ExitCode);
        Assert.Contains("A.Tests: run aborted (Aborting test run: test run timeout of 1500000 milliseconds exceeded.)", summary.Problems);
        Assert.Contains(summary.Problems, p => p.StartsWith("B.Tests: 2 result files, expected one", StringComparison.Ordinal));
        Assert.Equal("5 passed, 3 failed, 0 skipped", summary.Last);
    }

    [Fact]
    public async Task The_repository_s_own_test_projects_are_derived_without_the_support_library()
    {
        // An empty results folder: every test project of this repository is reported missing, and only those.
        var results = Path.Combine(_work, "empty");
        Directory.CreateDirectory(results);
        var expected = Directory.GetDirectories(Path.Combine(RepositoryRoot(), "tests"))
            .Select(Path.GetFileName)
            .Where(name => name != "ServerlessImaging.Testing")
            .Order(StringComparer.Ordinal)
            .Select(name => $"{name}: no result file (test host crashed or the run was cut)")
            .ToList();

        var summary = await SummariseAsync(results, RepositoryRoot());

        Assert.Equal(expected, summary.Problems);
        Assert.Equal($"0 passed, {expected.Count} failed, 0 skipped", summary.Last);
    }

    [Fact]
    public async Task A_test_host_that_really_crashes_is_reported_by_name_although_its_result_file_holds_no_test()
    {
        // A throwaway test project whose second test kills its host (Environment.FailFast), run by the real `dotnet test`.
        var repo = Path.Combine(_work, "crash-repo");
        var project = Path.Combine(repo, "tests", "Crashing.Tests");
        Directory.CreateDirectory(project);
        var versions = PackageVersions(File.ReadAllText(Path.Combine(RepositoryRoot(), "Directory.Packages.props")));
        File.WriteAllText(Path.Combine(project, "Crashing.Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{versions["Microsoft.NET.Test.Sdk"]}" />
                <PackageReference Include="xunit" Version="{versions["xunit"]}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{versions["xunit.runner.visualstudio"]}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "CrashingTests.cs"), """
            public class CrashingTests
            {
                [Xunit.Fact] public void Passes() { }
                [Xunit.Fact] public void Kills_its_host() => Environment.FailFast("test host crashed on purpose");
            }
            """);
        var results = Path.Combine(_work, "crash-results");

        var (exit, output) = await RunAsync("dotnet", ["test", project, "--results-directory", results, "--logger", "trx", "--nologo", "--disable-build-servers"], repo, TimeSpan.FromMinutes(4));
        var summary = await SummariseAsync(results, repo);

        Assert.True(exit != 0, output);
        Assert.Single(Directory.GetFiles(results, "*.trx", SearchOption.AllDirectories));
        Assert.Equal(1, summary.ExitCode);
        var problem = Assert.Single(summary.Problems);
        Assert.StartsWith("Crashing.Tests: run aborted (", problem, StringComparison.Ordinal);
        Assert.Contains("crashed", problem, StringComparison.Ordinal);
        Assert.Matches(@"^\d+ passed, [1-9]\d* failed, 0 skipped$", summary.Last);
    }

    private static Dictionary<string, string> PackageVersions(string props) =>
        PackageVersionPattern().Matches(props).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);

    [GeneratedRegex("<PackageVersion Include=\"([^\"]+)\" Version=\"([^\"]+)\"")]
    private static partial Regex PackageVersionPattern();
}
