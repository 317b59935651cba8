using ServerlessImaging.FunctionApp.Configuration;

// Host wiring only. The HTTP API, triggers and activities arrive with their issues; today the
// app validates its configuration and answers a liveness probe.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

var missing = CloudAppSettings.RequiredInAzure
    .Where(key => string.IsNullOrWhiteSpace(app.Configuration[key.Replace("__", ":", StringComparison.Ordinal)]))
    .ToList();
if (missing.Count > 0 && !app.Environment.IsDevelopment())
{
    app.Logger.LogWarning("Missing settings: {Settings}", string.Join(", ", missing));
}

app.MapGet("/healthz", () => Results.Ok(new { status = "alive" }));
app.Run();
