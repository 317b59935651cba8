using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.DevToken;
using ServerlessImaging.FunctionApp.Api;
using ServerlessImaging.FunctionApp.Hosting;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The Functions app's worker host, composed as Program.cs composes it (<c>ConfigureFunctionsWebApplication</c>,
/// <c>AddServerlessImaging</c>) and built but never run: the Functions host it would connect to cannot run here. Its
/// <see cref="ApiPipeline"/> is driven with requests shaped as the worker's ASP.NET Core integration hands them to an HTTP
/// trigger (the function's own endpoint already matched, request services = the invocation's scope). Tokens are signed
/// with a key generated per run; the audit trail is recorded in memory; nothing connects anywhere.
/// </summary>
public sealed class WorkerHost : IDisposable
{
    private readonly IHost host;
    private readonly string jwksPath;
    private readonly GrpcChannel channel;

    public WorkerHost()
    {
        using var rsa = RSA.Create(2048);
        var key = rsa.ExportParameters(includePrivateParameters: true);
        var publicJwk = new Dictionary<string, string> { ["kty"] = "RSA", ["kid"] = "functionapp-tests", ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(key.Modulus!), ["e"] = B64(key.Exponent!) };
        var privateJwk = new Dictionary<string, string>(publicJwk)
        {
            ["d"] = B64(key.D!), ["p"] = B64(key.P!), ["q"] = B64(key.Q!), ["dp"] = B64(key.DP!), ["dq"] = B64(key.DQ!), ["qi"] = B64(key.InverseQ!),
        };
        jwksPath = Path.Combine(Path.GetTempPath(), $"si-functionapp-jwks-{Guid.NewGuid():N}.json");
        File.WriteAllText(jwksPath, JsonSerializer.Serialize(new { keys = new[] { publicJwk } }));
        Tokens = new DevTokenIssuer(JsonSerializer.Serialize(privateJwk), "https://issuer.functionapp.test", "api://serverless-imaging-functionapp-tests");

        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Environment.EnvironmentName = Environments.Development;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Sites:Ids"] = string.Join(',', SiteIds),
            ["DicomWeb:BaseUrl"] = "http://127.0.0.1:9/dicom-web/",
            ["Cosmos:ConnectionString"] = "AccountEndpoint=https://127.0.0.1:9/;AccountKey=" + Convert.ToBase64String(new byte[64]),
            ["Auth:Authority"] = Tokens.Issuer,
            ["Auth:Audience"] = Tokens.Audience,
            ["Auth:DevelopmentJwksPath"] = jwksPath,
        });
        builder.Services.AddSingleton<IAuditTrail>(Audit);
        builder.ConfigureFunctionsWebApplication();
        builder.AddServerlessImaging();
        host = builder.Build();
        host.Prepare();

        // What a [DurableClient] binding hands over: a client of the Durable extension (here pointed at a closed port; unused).
        channel = GrpcChannel.ForAddress("http://127.0.0.1:9");
        DurableClient = new GrpcDurableTaskClient("functionapp-tests", new GrpcDurableTaskClientOptions { Channel = channel }, NullLogger<GrpcDurableTaskClient>.Instance);
    }

    /// <summary>The sites the worker is configured with (one relay-events trigger each).</summary>
    public static IReadOnlyList<string> SiteIds { get; } = ["chu-nord", "clinique-sud"];

    public DevTokenIssuer Tokens { get; }

    public RecordingAuditTrail Audit { get; } = new();

    public DurableTaskClient DurableClient { get; }

    public IServiceProvider Services => host.Services;

    /// <summary>Runs one request through the app's pipeline as an HTTP trigger would.</summary>
    public async Task<(int Status, string? ContentType, string Body)> SendAsync(string method, string pathAndQuery, string? bearer = null, string? jsonBody = null)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("serverless-imaging.test");
        context.Request.Path = queryStart < 0 ? pathAndQuery : pathAndQuery[..queryStart];
        context.Request.QueryString = queryStart < 0 ? QueryString.Empty : new QueryString(pathAndQuery[queryStart..]);
        if (bearer is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + bearer;
        }

        if (jsonBody is not null)
        {
            context.Request.ContentType = "application/json";
            context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(jsonBody));
        }

        var response = new MemoryStream();
        context.Response.Body = response;

        // The worker's routing matched the function's endpoint before the trigger ran.
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, EndpointMetadataCollection.Empty, "function endpoint"));
        var result = await Services.GetRequiredService<ApiPipeline>().RunAsync(context.Request, DurableClient);
        Assert.Same(Results.Empty, result);
        return (context.Response.StatusCode, context.Response.ContentType, System.Text.Encoding.UTF8.GetString(response.ToArray()));
    }

    public void Dispose()
    {
        host.Dispose();
        channel.Dispose();
        Tokens.Dispose();
        File.Delete(jwksPath);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>An audit trail in memory.</summary>
public sealed class RecordingAuditTrail : IAuditTrail
{
    private readonly ConcurrentQueue<AuditRecord> records = new();

    public IReadOnlyList<AuditRecord> Records => [.. records];

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        records.Enqueue(record);
        return Task.CompletedTask;
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken) => Task.FromResult(new AuditPage([.. records], null));
}
