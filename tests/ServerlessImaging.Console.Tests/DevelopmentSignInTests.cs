using System.Diagnostics;
using System.Text.Json;
using ServerlessImaging.Console.Tests.Support;
using ServerlessImaging.Testing.Settings;

namespace ServerlessImaging.Console.Tests;

/// <summary>The console's Development-only sign-in (POST /dev/token) cannot be switched on anywhere else.</summary>
[Collection(ConsoleRigGroup.Name)]
public sealed class DevelopmentSignInTests(ConsoleRig rig)
{
    [Fact]
    public async Task The_real_host_in_Production_with_the_development_signing_key_exits_1_with_one_line_naming_the_setting()
    {
        var keyPath = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(rig.RepositoryRoot, ".local", "stack", "stack.json")))
            .RootElement.GetProperty("auth").GetProperty("signingKeyPath").GetString()!;
        var start = new ProcessStartInfo("dotnet", [rig.AppAssembly])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = rig.RepositoryRoot,
        };
        foreach (var (key, value) in AzureAppSettings.Complete())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Auth__DevelopmentSigningKeyPath"] = keyPath;

        using var host = Process.Start(start)!;
        var stderr = host.StandardError.ReadToEndAsync();
        var stdout = host.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await host.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            host.Kill(entireProcessTree: true);
            throw;
        }

        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(1, host.ExitCode);
        var line = Assert.Single(lines);
        Assert.Contains("'Production'", line, StringComparison.Ordinal);
        Assert.Contains("Auth__DevelopmentSigningKeyPath", line, StringComparison.Ordinal);
        Assert.DoesNotContain(keyPath, line, StringComparison.Ordinal);
        Assert.DoesNotContain(keyPath, await stdout, StringComparison.Ordinal);
    }
}
