using ServerlessImaging.Cloud.Api;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.StandaloneHost.Hosting;

// Composition root of the standalone host: the HTTP API, the Durable Task engine (worker and client) over Azure
// Storage, and the relay-events listener (README.md).
WebApplication app;
try
{
    // Its own folder is the content root whatever the working directory: appsettings.json is read from beside the app,
    // and the configuration's change watcher watches that folder, not (recursively) wherever the app was started from.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

    // The HTTP API first: it checks the settings (development-only switches and missing settings stop the start outside
    // Development) and registers the Cosmos client, audit trail, SMTP sender and e-mail composer the runtime's TryAdd fallbacks defer to.
    builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
    builder.Services.AddOrchestrationRuntime(builder.Configuration);
    builder.Services.AddDurableTaskEngine(builder.Configuration);
    builder.Services.AddStandaloneWorkers();
    builder.Services.AddWebConsole(builder.Configuration);
    builder.Services.AddDevelopmentSignIn(builder.Configuration, builder.Environment);
    app = builder.Build();
}
catch (StartupRefusedException refused)
{
    // One line for the operator, no stack trace: the message names the settings to fix.
    await Console.Error.WriteLineAsync(refused.Message);
    return 1;
}

// Every API endpoint requires a role (fallback policy denies anonymous); only the liveness probe is anonymous.
app.UseWebConsoleFiles(); // public static files (console, viewer) before the API's middleware; no data in them
app.UseHttpApi();
app.MapLiveness();
app.MapDicomWebProxy();
app.MapDevelopmentSignIn();

await app.RunAsync();
return 0;

/// <summary>Entry point (public for WebApplicationFactory-style tests).</summary>
public partial class Program;
