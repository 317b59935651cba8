using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.FunctionApp.Hosting;

// Composition root of the Functions app: the isolated worker with its ASP.NET Core integration (HTTP triggers receive the
// request itself), then the same services as the standalone host (Hosting/FunctionAppComposition.cs): AddHttpApi,
// AddOrchestrationRuntime, the API pipeline, relay-event handling, OpenTelemetry with the Azure Monitor exporter.
// The worker's environment is AZURE_FUNCTIONS_ENVIRONMENT or DOTNET_ENVIRONMENT (Production when neither is set).
IHost app;
try
{
    var builder = FunctionsApplication.CreateBuilder(args);
    builder.ConfigureFunctionsWebApplication();
    builder.AddServerlessImaging();
    app = builder.Build().Prepare();
}
catch (StartupRefusedException refused)
{
    // One line for the operator (the Functions host logs the worker's stderr), no stack trace.
    await Console.Error.WriteLineAsync(refused.Message);
    return 1;
}

await app.RunAsync();
return 0;
