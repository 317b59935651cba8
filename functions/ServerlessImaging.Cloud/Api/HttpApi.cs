using Azure.Core;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Email;
using ServerlessImaging.Adapters.Idempotency;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Api.AuditTrail;
using ServerlessImaging.Cloud.Api.Delivery;
using ServerlessImaging.Cloud.Api.Expertise;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Api.Meetings;
using ServerlessImaging.Cloud.Api.Registrations;
using ServerlessImaging.Cloud.Api.Sites;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Api;

/// <summary>Composition of the HTTP API: call <see cref="AddHttpApi"/> before the runtime, <see cref="UseHttpApi"/> after Build.</summary>
public static class HttpApi
{
    /// <summary>Name of the OpenAPI document (served at <c>/openapi/v1.json</c>).</summary>
    public const string OpenApiDocument = "v1";

    /// <summary>
    /// Checks the settings first (<see cref="CloudStartupCheck"/>: development-only switches and missing settings stop
    /// the start outside Development), then registers authentication, problem details, OpenAPI, and the API's adapters:
    /// the Cosmos client (the stand-in's self-signed certificate accepted in Development only), the fault point, the
    /// Cosmos audit trail (also the runtime's <see cref="IAuditSink"/>) with the aggregation of refused requests,
    /// idempotency keys, site health, and — when <c>Smtp__Host</c> is set — the SMTP sender and the user-guide e-mail
    /// composer. Register before the runtime, whose fallbacks use TryAdd.
    /// </summary>
    /// <exception cref="StartupRefusedException">The settings do not allow a start in this environment.</exception>
    public static IServiceCollection AddHttpApi(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        CloudStartupCheck.Verify(configuration, environment);
        services.AddApiAuthentication(configuration, environment);
        services.TryAddSingleton(DeliverySourceTokens.FromConfiguration(configuration, environment.IsDevelopment()));
        services.AddAuthentication().AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, DeliverySourceAuthenticationHandler>(DeliverySourceAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(DeliverySourceAuthenticationHandler.PolicyName, policy => policy
            .AddAuthenticationSchemes(DeliverySourceAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(DeliverySourceAuthenticationHandler.StudyClaim));
        services.AddProblemDetails();
        services.AddOpenApi(OpenApiDocument, options => options.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        services.TryAddSingleton(TimeProvider.System);

        string Database() => configuration["Cosmos:DatabaseName"] is { Length: > 0 } name ? name : ResourceNames.CosmosDatabase;
        Container ContainerOf(IServiceProvider sp, string name) => sp.GetRequiredService<CosmosClient>().GetContainer(Database(), name);

        // Before the runtime's environment-blind fallbacks: these two know whether the environment is Development.
        var cosmos = new CosmosOptions
        {
            ConnectionString = configuration["Cosmos:ConnectionString"],
            AccountEndpoint = Uri.TryCreate(configuration["Cosmos:AccountEndpoint"], UriKind.Absolute, out var account) ? account : null,
        };
        var lenientTls = environment.IsDevelopment();
        services.TryAddSingleton(sp => CosmosClientFactory.Create(cosmos, string.IsNullOrWhiteSpace(cosmos.ConnectionString) ? sp.GetRequiredService<TokenCredential>() : null, lenientTls));
        services.TryAddSingleton(FaultInjection.For(configuration, environment));

        services.TryAddSingleton(sp => new CosmosAuditTrail(ContainerOf(sp, "audit"), "serverless-imaging"));
        services.TryAddSingleton<IAuditTrail>(sp => sp.GetRequiredService<CosmosAuditTrail>());
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<CosmosAuditTrail>());
        services.TryAddSingleton(sp => new CosmosAuditVerification(sp.GetRequiredService<CosmosAuditTrail>(), sp.GetRequiredService<TimeProvider>()));
        _ = AuditAnchorSigning.KeyVaultKeyUri(configuration); // a malformed key URI stops the start, not the first export
        services.TryAddSingleton(sp => AuditAnchorSigning.From(configuration, environment, sp.GetRequiredService<TokenCredential>));
        services.TryAddSingleton<IIdempotencyStore>(sp => new CosmosIdempotencyStore(ContainerOf(sp, "idempotency")));
        services.TryAddSingleton<IMeetingCapacity>(sp => new CosmosMeetingCapacity(ContainerOf(sp, "idempotency")));
        services.TryAddSingleton<ISiteHealthStore>(sp => new CosmosSiteHealthStore(ContainerOf(sp, "sites")));
        services.TryAddSingleton<ISentEmailLedger>(sp => new CosmosSentEmailLedger(ContainerOf(sp, "idempotency")));
        services.TryAddSingleton(new RefusalAuditAggregator(RefusalWindow(configuration)));
        services.AddHostedService<RefusalAuditFlusher>();

        var smtp = new SmtpOptions();
        configuration.GetSection("Smtp").Bind(smtp);
        if (!string.IsNullOrWhiteSpace(smtp.Host))
        {
            var problems = smtp.Validate(environment.IsDevelopment());
            if (problems.Count > 0)
            {
                throw new StartupRefusedException("SMTP settings: " + string.Join(" ", problems));
            }

            services.TryAddSingleton(smtp);
            services.TryAddSingleton<SmtpEmailSender>();
            services.TryAddSingleton<IEmailSender>(sp => sp.GetRequiredService<SmtpEmailSender>());
            services.TryAddSingleton<IExpertiseEmailComposer, UserGuideExpertiseEmailComposer>();
        }

        return services;
    }

    /// <summary>
    /// Adds the API's middleware (problem+json for errors and empty error statuses, authentication, request auditing,
    /// authorization) and maps its endpoints and the OpenAPI document. Every endpoint requires a role; only
    /// endpoints the host marks AllowAnonymous (the liveness probe) are open.
    /// </summary>
    public static WebApplication UseHttpApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseMiddleware<HttpAuditMiddleware>();
        app.UseAuthorization();

        MeetingEndpoints.Map(app);
        RegistrationEndpoints.Map(app);
        MeetingRegistrationEndpoints.Map(app);
        SiteEndpoints.Map(app);
        AuditEndpoints.Map(app);
        DeliverySourceEndpoints.Map(app);
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }

    private static TimeSpan RefusalWindow(IConfiguration configuration)
    {
        var configured = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuditRefusalWindow)];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return RefusalAuditAggregator.DefaultWindow;
        }

        return TimeSpan.TryParse(configured, System.Globalization.CultureInfo.InvariantCulture, out var window) && window > TimeSpan.Zero && window <= TimeSpan.FromHours(1)
            ? window
            : throw new StartupRefusedException($"{CloudAppSettings.AuditRefusalWindow} must be a duration between 0 and 1 hour (hh:mm:ss).");
    }

    /// <summary>Maps the liveness probe <c>GET /healthz</c>, the only anonymous route (both hosts).</summary>
    public static IEndpointConventionBuilder MapLiveness(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/healthz", () => Results.Ok(new { status = "alive" })).AllowAnonymous();
}
