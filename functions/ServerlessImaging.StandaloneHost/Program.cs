using ServerlessImaging.Cloud.Api;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.StandaloneHost.Hosting;

// Composition root of the standalone host: the HTTP API, the Durable Task engine (worker and client) over Azure
// Storage, and the relay-events listener (README.md).
var builder = WebApplication.CreateBuilder(args);

// The HTTP API first: it registers the Cosmos audit trail, SMTP sender and e-mail composer the runtime's TryAdd fallbacks defer to.
builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
builder.Services.AddOrchestrationRuntime(builder.Configuration);
builder.Services.AddDurableTaskEngine(builder.Configuration);
builder.Services.AddStandaloneWorkers();

var app = builder.Build();

var missing = CloudAppSettings.RequiredInAzure
    .Where(key => string.IsNullOrWhiteSpace(app.Configuration[key.Replace("__", ":", StringComparison.Ordinal)]))
    .ToList();
if (missing.Count > 0 && !app.Environment.IsDevelopment())
{
    app.Logger.LogWarning("Missing settings: {Settings}", string.Join(", ", missing));
}

// Every API endpoint requires a role (fallback policy denies anonymous); only the liveness probe is anonymous.
app.UseHttpApi();
app.MapLiveness();

app.Run();

/// <summary>Entry point (public for WebApplicationFactory-style tests).</summary>
public partial class Program;
