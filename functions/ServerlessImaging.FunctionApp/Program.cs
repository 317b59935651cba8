using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.FunctionApp.Hosting;

// Composition root of the Functions app: the isolated worker with its ASP.NET Core integration (HTTP triggers receive the
// request itself), then the same services as the standalone host (Hosting/FunctionAppComposition.cs): AddHttpApi,
// AddOrchestrationRuntime, the API pipeline, relay-event handling, OpenTelemetry with the Azure Monitor exporter.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.AddServerlessImaging();

builder.Build().Prepare().Run();
