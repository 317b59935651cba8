using ServerlessImaging.FunctionApp.Api;
using ServerlessImaging.FunctionApp.Configuration;
using ServerlessImaging.FunctionApp.Hosting;
using ServerlessImaging.FunctionApp.Runtime;

// Composition root. Two modes (README.md): standalone (own queue listener and sweep loop) and, with
// --custom-handler, behind the Azure Functions host (triggers arrive as invocations; HTTP is forwarded).
var customHandler = CustomHandler.IsRequested(args);
var builder = WebApplication.CreateBuilder(args);
if (customHandler)
{
    builder.ListenForFunctionsHost();
}

// The HTTP API first: it registers the Cosmos audit trail, SMTP sender and e-mail composer the runtime's TryAdd fallbacks defer to.
builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
builder.Services.AddOrchestrationRuntime(builder.Configuration);
if (!customHandler)
{
    builder.Services.AddStandaloneWorkers();
}

var app = builder.Build();

var missing = CloudAppSettings.RequiredInAzure
    .Where(key => string.IsNullOrWhiteSpace(app.Configuration[key.Replace("__", ":", StringComparison.Ordinal)]))
    .ToList();
if (missing.Count > 0 && !app.Environment.IsDevelopment())
{
    app.Logger.LogWarning("Missing settings: {Settings}", string.Join(", ", missing));
}

// Every API endpoint requires a role (fallback policy denies anonymous); only the liveness probe and the
// Functions host's trigger invocations (loopback, from the host itself) are anonymous.
app.UseHttpApi();
app.MapGet("/healthz", () => Results.Ok(new { status = "alive" })).AllowAnonymous();
if (customHandler)
{
    app.MapGroup(string.Empty).AllowAnonymous().MapCustomHandlerInvocations();
}

app.Run();

/// <summary>Entry point (public for WebApplicationFactory-style tests).</summary>
public partial class Program;
