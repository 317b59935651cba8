using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using ServerlessImaging.Cloud.Api;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.FunctionApp.Api;
using ServerlessImaging.FunctionApp.RelayEvents;

namespace ServerlessImaging.FunctionApp.Hosting;

/// <summary>
/// Composition of the Functions app (Program.cs; tests build the same worker host without running it): the services of
/// the standalone host, with the Durable extension in place of its Durable Task engine and the Functions host's queue
/// trigger in place of its relay-events listener.
/// </summary>
public static class FunctionAppComposition
{
    /// <summary>Setting that turns the Azure Monitor exporter on (set by the platform when Application Insights is linked).</summary>
    public const string AppInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Setting whose <c>Authorization=AAD</c> makes the exporter authenticate with the app's managed identity.</summary>
    public const string AppInsightsAuthenticationString = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Registers the API, the orchestration runtime, the HTTP pipeline, relay-event handling and telemetry.</summary>
    /// <exception cref="StartupRefusedException">The settings do not allow a start in this environment (checked first).</exception>
    public static FunctionsApplicationBuilder AddServerlessImaging(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The HTTP API first: it registers the Cosmos audit trail, SMTP sender and e-mail composer the runtime's TryAdd fallbacks defer to.
        builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
        builder.Services.AddOrchestrationRuntime(builder.Configuration);
        builder.Services.AddSingleton<ApiPipeline>();
        builder.Services.AddRelayEventTriggers(builder.Configuration);

        // Telemetry: the worker's traces and resource (UseFunctionsWorkerDefaults), the app's meter; exported to Application
        // Insights when it is linked, with the app's managed identity when the resource refuses keys.
        var telemetry = builder.Services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithMetrics(metrics => metrics.AddMeter(RelayEventMetrics.MeterName));
        if (!string.IsNullOrWhiteSpace(builder.Configuration[AppInsightsConnectionString]))
        {
            telemetry.UseAzureMonitorExporter();
            if (builder.Configuration[AppInsightsAuthenticationString]?.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase) == true)
            {
                builder.Services.AddOptions<AzureMonitorExporterOptions>().Configure<TokenCredential>((options, credential) => options.Credential = credential);
            }
        }

        return builder;
    }

    /// <summary>
    /// Composes the HTTP pipeline now, so a broken composition stops the start, not the first request. (The settings were
    /// checked by <c>AddHttpApi</c> in <see cref="AddServerlessImaging"/>: outside Development a development-only switch or
    /// a missing setting throws <see cref="StartupRefusedException"/>, which Program.cs prints as one line.)
    /// </summary>
    public static IHost Prepare(this IHost app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<ApiPipeline>();
        return app;
    }
}
