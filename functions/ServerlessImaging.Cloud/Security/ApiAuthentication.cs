using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using ServerlessImaging.Cloud.Configuration;

namespace ServerlessImaging.Cloud.Security;

/// <summary>
/// JWT bearer authentication and role policies. In Azure the tokens come from Entra ID (<c>Auth__Authority</c>
/// metadata, <c>Auth__Audience</c>); locally the SAME validation runs, with the signing keys read from the JWKS
/// file the local stack generates (<c>Auth__DevelopmentJwksPath</c>) instead of the authority's metadata — in the
/// Development environment only: elsewhere that setting stops the start. There is no switch that turns validation off:
/// the fallback policy denies anonymous requests.
/// </summary>
public static class ApiAuthentication
{
    /// <summary>Tolerated clock difference with the token issuer.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>Adds authentication and authorization.</summary>
    /// <exception cref="StartupRefusedException">Development keys outside Development, or a JWKS file that cannot be read.</exception>
    public static IServiceCollection AddApiAuthentication(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        var authority = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuthAuthority)];
        var audience = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuthAudience)];
        var jwksPath = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuthDevelopmentJwksPath)];

        // Checked here too, not only by CloudStartupCheck: this is where the key would be trusted.
        IList<SecurityKey>? developmentKeys = null;
        if (!string.IsNullOrWhiteSpace(jwksPath))
        {
            if (!environment.IsDevelopment())
            {
                throw new StartupRefusedException($"{CloudAppSettings.AuthDevelopmentJwksPath} is Development-only (it makes the app accept tokens signed with the local stack's key); environment is '{environment.EnvironmentName}'.");
            }

            try
            {
                developmentKeys = new JsonWebKeySet(File.ReadAllText(jwksPath)).GetSigningKeys();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Text.Json.JsonException)
            {
                throw new StartupRefusedException($"{CloudAppSettings.AuthDevelopmentJwksPath}: the JWKS file cannot be read ({ex.GetType().Name}).", ex);
            }
        }

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            // Keep claim names as issued ("roles", "sub"), not the legacy WS-Federation URIs.
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidateLifetime = true,
                ValidateIssuerSigningKey = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ValidAudience = audience,
                ClockSkew = ClockSkew,
                RoleClaimType = "roles",
                NameClaimType = "sub",
            };

            if (developmentKeys is { } keys)
            {
                // Local stack: the issuer is the configured authority string, the keys are the JWKS file's.
                options.TokenValidationParameters.ValidIssuer = authority;
                options.TokenValidationParameters.IssuerSigningKeys = keys;
                var configurationDocument = new OpenIdConnectConfiguration { Issuer = authority };
                foreach (var key in keys)
                {
                    configurationDocument.SigningKeys.Add(key);
                }

                options.Configuration = configurationDocument;
            }
            else
            {
                options.Authority = authority;
            }
        });

        services.AddAuthorizationBuilder()
            // Fallback (endpoints without their own policy, e.g. the OpenAPI document): any app role; a token without one is refused.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(ApiRoles.All).Build())
            .AddPolicy(ApiRoles.Policy(ApiRoles.Registrar), p => p.RequireRole(ApiRoles.Registrar, ApiRoles.Admin))
            .AddPolicy(ApiRoles.Policy(ApiRoles.Coordinator), p => p.RequireRole(ApiRoles.Coordinator, ApiRoles.Admin))
            .AddPolicy(ApiRoles.Policy(ApiRoles.Auditor), p => p.RequireRole(ApiRoles.Auditor, ApiRoles.Admin))
            .AddPolicy(ApiRoles.Policy(ApiRoles.Admin), p => p.RequireRole(ApiRoles.Admin))
            .AddPolicy(ApiRoles.RegistrarOrCoordinator, p => p.RequireRole(ApiRoles.Registrar, ApiRoles.Coordinator, ApiRoles.Admin));
        return services;
    }
}
