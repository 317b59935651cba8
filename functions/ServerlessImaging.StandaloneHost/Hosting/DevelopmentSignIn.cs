using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.DevToken;

namespace ServerlessImaging.StandaloneHost.Hosting;

/// <summary>Body of <c>POST /dev/token</c>.</summary>
/// <param name="Role">One app role.</param>
internal sealed record DevelopmentTokenRequest(string Role);

/// <summary>
/// The console's sign-in in Development: <c>POST /dev/token {"role": …}</c> answers a token signed with the local stack's
/// development key (the one <c>tools/dev-token</c> uses), so the sign-in page offers one button per role. Only with
/// <c>Auth__DevelopmentSigningKeyPath</c> set, and that setting stops the start in any other environment: with it anyone
/// who reaches the app could sign in with any role.
/// </summary>
internal static class DevelopmentSignIn
{
    public const string SigningKeySetting = "Auth__DevelopmentSigningKeyPath";

    private static string? KeyPath(IConfiguration configuration) => configuration["Auth:DevelopmentSigningKeyPath"] is { Length: > 0 } path ? path : null;

    /// <summary>Refuses the switch outside Development; in Development registers the token issuer.</summary>
    public static void AddDevelopmentSignIn(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (KeyPath(configuration) is not { } path)
        {
            return;
        }

        if (!environment.IsDevelopment())
        {
            throw new StartupRefusedException($"Startup refused in environment '{environment.EnvironmentName}' (not Development): {SigningKeySetting} is a development-only switch (anyone could sign in with any role).");
        }

        services.AddSingleton(_ => new DevTokenIssuer(File.ReadAllText(path), configuration["Auth:Authority"] ?? string.Empty, configuration["Auth:Audience"] ?? string.Empty));
    }

    /// <summary>Maps <c>POST /dev/token</c> (anonymous: it is the sign-in) in Development when the key is set.</summary>
    public static void MapDevelopmentSignIn(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() || KeyPath(app.Configuration) is null)
        {
            return;
        }

        app.MapPost("/dev/token", (DevelopmentTokenRequest request, DevTokenIssuer issuer) =>
                ApiRoles.All.Contains(request.Role, StringComparer.Ordinal)
                    ? Results.Ok(new { token = issuer.Issue("dev-" + request.Role, [request.Role], TimeSpan.FromHours(8)) })
                    : Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unknown role."))
            .AllowAnonymous()
            .ExcludeFromDescription();
    }
}
