using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.Cloud.Configuration;

/// <summary>
/// A start the app refuses because of its settings. The message is one line meant for the operator (the hosts print it
/// alone and exit), naming the settings concerned and never their values.
/// </summary>
public sealed class StartupRefusedException : Exception
{
    /// <summary>Creates the refusal; <paramref name="message"/> is flattened to one line.</summary>
    public StartupRefusedException(string message)
        : base(OneLine(message))
    {
    }

    /// <summary>Creates the refusal with its cause (kept for debugging, not printed by the hosts).</summary>
    public StartupRefusedException(string message, Exception innerException)
        : base(OneLine(message), innerException)
    {
    }

    /// <summary>For serializers and analyzers.</summary>
    public StartupRefusedException()
        : base("The app refused to start.")
    {
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}

/// <summary>
/// What the settings must satisfy before anything is composed. Outside the Development environment the
/// development-only switches are refused — <c>Auth__DevelopmentJwksPath</c> (tokens signed with the local stack's key),
/// <c>SI_FAULT</c> (a crash point), a loopback Cosmos DB endpoint (its self-signed certificate would be accepted) — and
/// every required setting must be present. All problems come back as one line.
/// </summary>
public static class CloudStartupCheck
{
    /// <summary>Throws <see cref="StartupRefusedException"/> when <see cref="Problems"/> finds anything.</summary>
    public static void Verify(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var problems = Problems(configuration, environment);
        if (problems.Count > 0)
        {
            throw new StartupRefusedException($"Startup refused in environment '{environment.EnvironmentName}' (not Development): {string.Join("; ", problems)}.");
        }
    }

    /// <summary>The problems of these settings in this environment (none in Development).</summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.IsDevelopment())
        {
            return [];
        }

        var problems = new List<string>();
        if (IsSet(configuration, CloudAppSettings.AuthDevelopmentJwksPath))
        {
            problems.Add($"{CloudAppSettings.AuthDevelopmentJwksPath} is Development-only (it makes the app accept tokens signed with the local stack's key)");
        }

        if (!string.IsNullOrWhiteSpace(FaultInjection.SettingOf(configuration)))
        {
            problems.Add($"{CloudAppSettings.FaultInjection} is Development-only (it arms a crash point)");
        }

        // Read by hand, not bound: a malformed URI must not turn this check into a binder exception.
        var cosmos = new CosmosOptions
        {
            ConnectionString = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.CosmosConnectionString)],
            AccountEndpoint = Uri.TryCreate(configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.CosmosAccountEndpoint)], UriKind.Absolute, out var account) ? account : null,
        };
        if (CosmosClientFactory.EndpointOf(cosmos) is { } endpoint && CosmosClientFactory.IsLoopback(endpoint.Host))
        {
            var setting = string.IsNullOrWhiteSpace(cosmos.ConnectionString) ? CloudAppSettings.CosmosAccountEndpoint : CloudAppSettings.CosmosConnectionString;
            problems.Add($"{setting} names a loopback endpoint, whose self-signed certificate is accepted in Development only");
        }

        var missing = CloudAppSettings.RequiredInAzure
            .Where(name => !IsSet(configuration, name) && !(CloudAppSettings.SatisfiedBy.TryGetValue(name, out var alternative) && IsSet(configuration, alternative)))
            .ToList();
        if (missing.Count > 0)
        {
            problems.Add("missing required settings: " + string.Join(", ", missing));
        }

        return problems;
    }

    private static bool IsSet(IConfiguration configuration, string setting) => !string.IsNullOrWhiteSpace(configuration[CloudAppSettings.ConfigurationKey(setting)]);
}
