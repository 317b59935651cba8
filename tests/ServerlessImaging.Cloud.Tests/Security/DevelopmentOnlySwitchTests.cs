using System.Net;
using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Cloud.Tests.Api;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Testing.Settings;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Security;

/// <summary>
/// Development-only switches (development tokens, SI_FAULT, a loopback Cosmos DB endpoint with its self-signed
/// certificate) and missing settings stop the start outside Development with one line naming the settings; in
/// Development the same switches are accepted and the app serves. The composition is the standalone host's (ApiHost);
/// one test runs the real host process to see what an operator sees.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class DevelopmentOnlySwitchTests(LocalStackFixture stack)
{
    private const string Refused = "Startup refused in environment 'Production' (not Development): ";

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, params (string Key, string? Value)[] changes)
    {
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task A_complete_production_configuration_without_switches_composes()
    {
        var settings = AzureAppSettings.Complete();
        Assert.All(CloudAppSettings.RequiredInAzure, name => Assert.True(settings.ContainsKey(CloudAppSettings.ConfigurationKey(name)), name + " is missing from the sample"));
        await using var app = ApiHost.Compose("Production", settings);
        Assert.Null(app.Services.GetRequiredService<FaultInjection>().Armed);
    }

    public static TheoryData<string, string, string, string> Switches => new()
    {
        { "Production", "Auth:DevelopmentJwksPath", "/srv/keys/jwks.json", "Auth__DevelopmentJwksPath is Development-only (it makes the app accept tokens signed with the local stack's key)" },
        { "Production", "SI_FAULT", "crash-mid-store", "SI_FAULT is Development-only (it arms a crash point)" },
        { "Production", "Cosmos:AccountEndpoint", "https://localhost:8081/", "Cosmos__AccountEndpoint names a loopback endpoint, whose self-signed certificate is accepted in Development only" },
        { "Production", "Cosmos:AccountEndpoint", "https://[::1]:8081/", "Cosmos__AccountEndpoint names a loopback endpoint, whose self-signed certificate is accepted in Development only" },
        { "Staging", "SI_FAULT", "crash-mid-store", "SI_FAULT is Development-only (it arms a crash point)" },
    };

    [Theory]
    [MemberData(nameof(Switches))]
    public void Outside_Development_each_switch_stops_the_start_with_one_line_naming_it(string environment, string key, string value, string problem)
    {
        var refused = Assert.Throws<StartupRefusedException>(() => ApiHost.Compose(environment, With(AzureAppSettings.Complete(), (key, value))));
        Assert.Equal($"Startup refused in environment '{environment}' (not Development): {problem}.", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.DoesNotContain(value, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_Development_the_stand_ins_Cosmos_connection_string_is_refused_without_echoing_its_key()
    {
        var connectionString = stack.Endpoints.Cosmos.ConnectionString;
        var refused = Assert.Throws<StartupRefusedException>(() => ApiHost.Compose("Production", With(AzureAppSettings.Complete(), ("Cosmos:AccountEndpoint", null), ("Cosmos:ConnectionString", connectionString))));
        Assert.Equal(Refused + "Cosmos__ConnectionString names a loopback endpoint, whose self-signed certificate is accepted in Development only.", refused.Message);
        Assert.DoesNotContain("AccountKey", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_Development_every_switch_and_missing_setting_is_named_in_the_same_line()
    {
        var settings = With(AzureAppSettings.Complete(), ("Auth:DevelopmentJwksPath", "/srv/keys/jwks.json"), ("SI_FAULT", "crash-mid-store"), ("Auth:Audience", null), ("Sites:Ids", " "), ("Storage:TableServiceUri", null));
        var refused = Assert.Throws<StartupRefusedException>(() => ApiHost.Compose("Production", settings));
        Assert.Equal(
            Refused
            + "Auth__DevelopmentJwksPath is Development-only (it makes the app accept tokens signed with the local stack's key); "
            + "SI_FAULT is Development-only (it arms a crash point); "
            + "missing required settings: Storage__TableServiceUri, Auth__Audience, Sites__Ids.",
            refused.Message);
    }

    [Fact]
    public async Task Outside_Development_connection_strings_stand_for_the_service_uris_they_replace()
    {
        var settings = With(
            AzureAppSettings.Complete(),
            ("Storage:QueueServiceUri", null),
            ("Storage:BlobServiceUri", null),
            ("Storage:TableServiceUri", null),
            ("Storage:ConnectionString", "DefaultEndpointsProtocol=https;AccountName=siprod;AccountKey=" + Convert.ToBase64String(new byte[64]) + ";EndpointSuffix=core.windows.net"),
            ("Cosmos:AccountEndpoint", null),
            ("Cosmos:ConnectionString", "AccountEndpoint=https://siprod.documents.azure.com:443/;AccountKey=" + Convert.ToBase64String(new byte[64])));
        await using var app = ApiHost.Compose("Production", settings);

        var refused = Assert.Throws<StartupRefusedException>(() => ApiHost.Compose("Production", With(settings, ("Storage:ConnectionString", null))));
        Assert.Equal(Refused + "missing required settings: Storage__QueueServiceUri, Storage__BlobServiceUri, Storage__TableServiceUri.", refused.Message);
    }

    [Fact]
    public async Task In_Development_the_switches_are_accepted_and_the_app_serves_with_them()
    {
        // The local settings carry the development JWKS and the stand-in's loopback Cosmos endpoint; SI_FAULT is added.
        // (Armed in this process, but no StoreStudy runs here: nothing is registered.)
        await using var host = await ApiHost.StartAsync(stack, new Dictionary<string, string?> { ["SI_FAULT"] = "crash-mid-store" });
        Assert.Equal(FaultPoint.CrashMidStore, host.Services.GetRequiredService<FaultInjection>().Armed);

        // A development token is accepted and the meeting store is read over the self-signed TLS of the stand-in: 404, not 401 or 500.
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Get, "/meetings/m-none", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.EndsWith("not-found", body.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void In_Development_an_unknown_fault_point_is_refused_with_one_line()
    {
        var settings = ApiHost.LocalSettings(stack, "unused", ["site-a"]);
        settings["SI_FAULT"] = "crash-everywhere";
        var refused = Assert.Throws<StartupRefusedException>(() => ApiHost.Compose("Development", settings));
        Assert.Equal("Unknown SI_FAULT value; expected crash-mid-store.", refused.Message);
    }

    [Fact]
    public async Task The_strict_Cosmos_client_refuses_the_stand_ins_self_signed_certificate_the_lenient_one_accepts_it()
    {
        var options = new CosmosOptions { ConnectionString = stack.Endpoints.Cosmos.ConnectionString };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        using var lenient = CosmosClientFactory.Create(options, null, acceptLoopbackSelfSignedCertificate: true);
        var account = await lenient.ReadAccountAsync();
        Assert.NotNull(account.Id);

        using var strict = CosmosClientFactory.Create(options, null, acceptLoopbackSelfSignedCertificate: false);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => strict.CreateDatabaseIfNotExistsAsync("strict-tls-probe", cancellationToken: timeout.Token));
        Assert.False(timeout.IsCancellationRequested, "The strict client should fail on the certificate, not time out.");
        Assert.Contains(Chain(failure), e => e is AuthenticationException);
    }

    [Theory]
    [InlineData("SI_FAULT", "crash-mid-store", "SI_FAULT is Development-only (it arms a crash point)")]
    [InlineData("Auth__DevelopmentJwksPath", "/srv/keys/jwks.json", "Auth__DevelopmentJwksPath is Development-only (it makes the app accept tokens signed with the local stack's key)")]
    public async Task The_host_process_outside_Development_exits_with_that_one_line_and_no_stack_trace(string variable, string value, string problem)
    {
        // The real Program.cs, as an operator starts it: Production settings as environment variables, the local ones blanked.
        var extra = AzureAppSettings.Complete();
        extra["Storage:ConnectionString"] = string.Empty;
        extra["Cosmos:ConnectionString"] = string.Empty;
        var settings = new RuntimeSettings(stack.Endpoints, ["chu-nord"]) { Extra = extra };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            [variable] = value,
        };
        await using var app = AppProcess.Start(stack.RepositoryRootPath, settings, fault: null, environment: environment);
        await app.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, app.ExitCode);
        var lines = app.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(new[] { Refused + problem + "." }, lines);
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
