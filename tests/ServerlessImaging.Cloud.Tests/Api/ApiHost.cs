using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessImaging.DevToken;
using ServerlessImaging.Cloud.Api;
using ServerlessImaging.StandaloneHost.Hosting;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// The cloud app's HTTP API with the runtime, started in-process on 127.0.0.1 (free port) against the local stack:
/// Cosmos DB stand-in (a database of its own), Azurite, maildev, the stack's development JWT key. Sites get
/// run-unique ids so the relay command queues this host writes to are its own. Every log line is recorded.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private readonly string databaseName;

    private ApiHost(WebApplication app, DevTokenIssuer tokens, string[] siteIds, RecordingLoggerProvider logs, string databaseName)
    {
        this.app = app;
        this.databaseName = databaseName;
        Tokens = tokens;
        SiteIds = siteIds;
        Logs = logs;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public DevTokenIssuer Tokens { get; }

    public string[] SiteIds { get; }

    public RecordingLoggerProvider Logs { get; }

    public IServiceProvider Services => app.Services;

    /// <summary>Every route endpoint the app maps (what the auth and OpenAPI tests are generated from).</summary>
    public IReadOnlyList<RouteEndpoint> Endpoints =>
        [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()];

    /// <param name="stack">The shared local stack.</param>
    /// <param name="extraSettings">Settings added on top (e.g. a test's own events queue, shorter engine polling).</param>
    /// <param name="withWorkers">Also run the relay-events listener (tests with a relay answering).</param>
    /// <param name="configureServices">Registrations made before the app's own (which use TryAdd where a test may replace them).</param>
    public static async Task<ApiHost> StartAsync(LocalStackFixture stack, IReadOnlyDictionary<string, string?>? extraSettings = null, bool withWorkers = false, Action<IServiceCollection>? configureServices = null)
    {
        var tokens = DevTokenIssuer.FromStackJson(Path.Combine(stack.RepositoryRootPath, ".local", "stack", "stack.json"));
        var prefix = "api" + UniqueNames.PatientSuffix(6).ToLowerInvariant();
        string[] sites = [prefix + "-nord", prefix + "-sud"];
        var logs = new RecordingLoggerProvider();
        var databaseName = UniqueNames.CosmosDatabase("api");
        var settings = LocalSettings(stack, databaseName, sites);
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = Compose(Environments.Development, settings, logs, configureServices, withWorkers);
        await app.StartAsync();
        return new ApiHost(app, tokens, sites, logs, databaseName);
    }

    /// <summary>The settings of a local run against the stack (colon form), as tools/run-local gives them.</summary>
    public static Dictionary<string, string?> LocalSettings(LocalStackFixture stack, string databaseName, IReadOnlyList<string> sites)
    {
        var endpoints = stack.Endpoints;
        var auth = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(stack.RepositoryRootPath, ".local", "stack", "stack.json")))!["auth"]!;
        return new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = endpoints.Storage.ConnectionString,
            ["Cosmos:ConnectionString"] = endpoints.Cosmos.ConnectionString,
            ["Cosmos:DatabaseName"] = databaseName,
            ["DicomWeb:BaseUrl"] = endpoints.DicomService.DicomWebBaseUrl.ToString(),

            // Orthanc's DICOMweb plugin has no DELETE: deletions go through its REST API, as in run-local.
            ["DicomWeb:OrthancRestUrl"] = endpoints.DicomService.HttpUrl.ToString(),
            ["Viewer:StudyUrlTemplate"] = "https://viewer.example/study/{StudyInstanceUID}",
            ["Sites:Ids"] = string.Join(',', sites),
            ["Auth:Authority"] = auth["issuer"]!.GetValue<string>(),
            ["Auth:Audience"] = auth["audience"]!.GetValue<string>(),
            ["Auth:DevelopmentJwksPath"] = auth["jwksPath"]!.GetValue<string>(),
            ["Smtp:Host"] = endpoints.Mail.SmtpHost,
            ["Smtp:Port"] = endpoints.Mail.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
            ["Smtp:From"] = "3c@serverless-imaging.test",
            ["Smtp:Signature"] = "3C de test",
        };
    }

    /// <summary>
    /// The same composition as the standalone host's Program.cs (the Durable Task engine included, the relay-events
    /// listener only when asked), built in <paramref name="environmentName"/> and not started. Throws what the composition
    /// throws (a refused start: <see cref="Configuration.StartupRefusedException"/>).
    /// </summary>
    public static WebApplication Compose(string environmentName, IReadOnlyDictionary<string, string?> settings, ILoggerProvider? logs = null, Action<IServiceCollection>? configureServices = null, bool withWorkers = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environmentName, Args = ["--urls", "http://127.0.0.1:0"] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(logs);
        }

        configureServices?.Invoke(builder.Services);
        builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
        builder.Services.AddOrchestrationRuntime(builder.Configuration);
        builder.Services.AddDurableTaskEngine(builder.Configuration);
        if (withWorkers)
        {
            builder.Services.AddStandaloneWorkers();
        }

        var app = builder.Build();
        app.UseHttpApi();
        app.MapLiveness();
        return app;
    }

    /// <summary>
    /// Plays a relay's (or an activity's) part: raises <paramref name="registrationEvent"/> to the registration's
    /// orchestration as the relay-events listener does, and waits until the orchestration has applied it (its step
    /// counter moved on; for an exact duplicate, which changes nothing, raise something after it).
    /// </summary>
    public async Task RaiseAndWaitAsync(string registrationId, OrchestrationEvent registrationEvent)
    {
        // The registration's first step must be applied first, or it would pass for the step of this event.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ProgressAsync(registrationId) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The registration's orchestration did not start within 30 s.");
            await Task.Delay(50);
        }

        var before = (await ProgressAsync(registrationId))!.Version;
        Assert.True(await Services.GetRequiredService<IRegistrationEventSink>().RaiseAsync(registrationId, registrationEvent, CancellationToken.None), "The registration's orchestration exists.");
        deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await ProgressAsync(registrationId))?.Version is not { } now || now <= before)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The orchestration did not apply {registrationEvent.GetType().Name} within 30 s.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until the registration's orchestration has applied every event raised to it so far: raises an event it
    /// ignores (an answer to a command it never sent) and waits for it, events of one instance being applied in order.
    /// Activities started by those events (a store, a deletion) may still be running.
    /// </summary>
    public Task SettleAsync(string registrationId) =>
        RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite("settle-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, SiteIds[0], "settle/not-a-command", []));

    /// <summary>The orchestration's custom status: the version and status of its last step.</summary>
    public async Task<RegistrationProgress?> ProgressAsync(string registrationId)
    {
        var instance = await Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync(registrationId, getInputsAndOutputs: true);
        return instance?.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<RegistrationProgress>();
    }

    public string Token(string role, string subject = "tester") => Tokens.Issue(subject, [role], TimeSpan.FromMinutes(10));

    public HttpRequestMessage Request(HttpMethod method, string path, string? role, object? json = null, string? idempotencyKey = null, string subject = "tester")
    {
        var request = new HttpRequestMessage(method, path);
        if (role is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, subject));
        }

        if (json is not null)
        {
            request.Content = new StringContent(json as string ?? JsonSerializer.Serialize(json, Json), Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    public async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response, body);
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Tokens.Dispose();
        await app.StopAsync();
        using (var response = await app.Services.GetRequiredService<Microsoft.Azure.Cosmos.CosmosClient>().GetDatabase(databaseName).DeleteStreamAsync())
        {
            // Best effort: a leftover test database only costs memory in the stand-in.
        }

        await app.DisposeAsync();
    }
}

/// <summary>Records every log message (rendered, with exception text) for leak scans.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Recorder(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}
