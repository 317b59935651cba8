using System.Text.RegularExpressions;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// Every template and parameter file compiles and lints with zero diagnostics under
/// infra/bicepconfig.json (where the rules that matter are raised to error). Files are
/// discovered from the folder, so a new module is covered the moment it is added.
/// </summary>
public sealed partial class BicepCompilationTests
{
    [Theory]
    [MemberData(nameof(EntryPoints))]
    public async Task Entry_point_builds_to_ARM_JSON_without_diagnostics(string file)
    {
        // Building an entry point compiles (and lints) every module it uses; each module is also linted on its own below.
        var output = InfraWorkspace.NewOutputDirectory();
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "build", InfraWorkspace.PathOf(file), "--outdir", output);

        AssertClean(result, $"bicep build {file}");
        Assert.True(File.Exists(Path.Combine(output, Path.ChangeExtension(Path.GetFileName(file), ".json"))), "bicep build wrote no template.");
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Bicep_file_lints_without_diagnostics(string file)
    {
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "lint", InfraWorkspace.PathOf(file));

        AssertClean(result, $"bicep lint {file}");
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Parameter_file_builds_without_diagnostics(string file)
    {
        var output = Path.Combine(InfraWorkspace.NewOutputDirectory(), "parameters.json");
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "build-params", InfraWorkspace.PathOf(file), "--outfile", output);

        AssertClean(result, $"bicep build-params {file}");
        Assert.True(File.Exists(output), "build-params wrote no parameters file.");
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Parameter_file_lints_without_diagnostics(string file)
    {
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "lint", InfraWorkspace.PathOf(file));

        AssertClean(result, $"bicep lint {file}");
    }

    [Fact]
    public void Infra_folder_has_the_entry_point_and_both_parameter_files()
    {
        var bicep = InfraWorkspace.Discover("*.bicep");
        var parameters = InfraWorkspace.Discover("*.bicepparam");

        Assert.Contains("main.bicep", bicep);
        Assert.Contains("params/dev.bicepparam", parameters);
        Assert.Contains("params/prod-hds.bicepparam", parameters);
    }

    [Fact]
    public async Task Bicep_cli_is_the_pinned_version()
    {
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("0.49.2", result.StandardOutput, StringComparison.Ordinal);
    }

    public static TheoryData<string> BicepFiles => InfraWorkspace.BicepFiles;

    /// <summary>Templates at the root of infra/ (modules live under infra/modules).</summary>
    public static TheoryData<string> EntryPoints
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var file in InfraWorkspace.Discover("*.bicep").Where(f => !f.Contains('/', StringComparison.Ordinal)))
            {
                data.Add(file);
            }

            return data;
        }
    }

    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    private static void AssertClean(BicepResult result, string command)
    {
        Assert.True(result.ExitCode == 0, $"{command} exited with {result.ExitCode}:\n{result.Output}");
        Assert.False(Diagnostic().IsMatch(result.Output), $"{command} reported diagnostics:\n{result.Output}");
    }

    // Bicep prints diagnostics as "<file>(line,col) : Warning|Error|Info <code>: message".
    [GeneratedRegex(@"\b(Warning|Error|Info)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Diagnostic();
}
