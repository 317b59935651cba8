using ServerlessImaging.Testing.Settings;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.FunctionApp.Hosting;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The Functions app's composition (Program.cs up to Run) outside Development: complete Azure settings compose; a
/// development-only switch or a missing setting stops it with the one line Program.cs prints. Nothing connects anywhere.
/// </summary>
public sealed class StartupRefusalTests
{
    private const string Refused = "Startup refused in environment 'Production' (not Development): ";

    private static void Compose(string environment, Dictionary<string, string?> settings)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Environment.EnvironmentName = environment;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.ConfigureFunctionsWebApplication();
        builder.AddServerlessImaging();
        using var host = builder.Build();
        host.Prepare();
    }

    [Fact]
    public void Complete_Azure_settings_compose_in_Production()
    {
        var settings = AzureAppSettings.Complete();
        Assert.All(CloudAppSettings.RequiredInAzure, name => Assert.True(settings.ContainsKey(CloudAppSettings.ConfigurationKey(name)), name));
        Compose("Production", settings);
    }

    [Theory]
    [InlineData("Auth:DevelopmentJwksPath", "/home/site/jwks.json", "Auth__DevelopmentJwksPath is Development-only (it makes the app accept tokens signed with the local stack's key)")]
    [InlineData("SI_FAULT", "crash-mid-store", "SI_FAULT is Development-only (it arms a crash point)")]
    [InlineData("Cosmos:AccountEndpoint", "https://127.0.0.1:8081/", "Cosmos__AccountEndpoint names a loopback endpoint, whose self-signed certificate is accepted in Development only")]
    [InlineData("Auth:Authority", null, "missing required settings: Auth__Authority")]
    public void A_development_switch_or_a_missing_setting_stops_the_composition_with_one_line(string key, string? value, string problem)
    {
        var settings = AzureAppSettings.Complete();
        settings[key] = value;
        var refused = Assert.Throws<StartupRefusedException>(() => Compose("Production", settings));
        Assert.Equal(Refused + problem + ".", refused.Message);
    }

    [Fact]
    public void In_Development_the_same_switches_are_accepted()
    {
        // The development JWKS file must exist: it is read at composition.
        var jwks = Path.Combine(Path.GetTempPath(), $"si-functionapp-startup-{Guid.NewGuid():N}.json");
        File.WriteAllText(jwks, """{"keys":[]}""");
        try
        {
            var settings = AzureAppSettings.Complete();
            settings["Auth:DevelopmentJwksPath"] = jwks;
            settings["Cosmos:AccountEndpoint"] = "https://127.0.0.1:8081/";
            settings["SI_FAULT"] = "crash-mid-store"; // armed, but this worker never runs an activity
            settings["Auth:Authority"] = null;
            Compose(Environments.Development, settings);
        }
        finally
        {
            File.Delete(jwks);
        }
    }
}
