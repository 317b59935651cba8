using System.Text.Json;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using Microsoft.Extensions.DependencyInjection;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>
/// The HTTP triggers' shared pipeline, composed over the real worker host: it answers as the standalone host does (same
/// middleware, same endpoints, same OpenAPI document), and it hands the trigger's Durable Task client to the runtime.
/// </summary>
public sealed class ApiPipelineTests(WorkerHost worker) : IClassFixture<WorkerHost>
{
    [Fact]
    public async Task The_liveness_probe_answers_anonymously()
    {
        var (status, contentType, body) = await worker.SendAsync("GET", "/healthz");
        Assert.Equal(200, status);
        Assert.StartsWith("application/json", contentType, StringComparison.Ordinal);
        Assert.Equal("alive", JsonDocument.Parse(body).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_trigger_hands_its_durable_client_to_the_runtime()
    {
        await worker.SendAsync("GET", "/healthz");
        Assert.Same(worker.DurableClient, worker.Services.GetRequiredService<DurableClientHolder>().Client);
    }

    [Fact]
    public async Task Every_API_route_refuses_an_anonymous_request_with_problem_json()
    {
        var failures = new List<string>();
        foreach (var route in ApiRoutes.ServedByFunctionAppPipeline().Where(r => r != ApiRoutes.Liveness))
        {
            var path = "/" + route.Template
                .Replace("{meetingId}", "m-contract", StringComparison.Ordinal)
                .Replace("{registrationId}", "reg-contract", StringComparison.Ordinal)
                .Replace("{studyUid}", "1.2.3", StringComparison.Ordinal)
                .Replace("{documentName}", "v1", StringComparison.Ordinal);
            var (status, contentType, _) = await worker.SendAsync(route.Method, path, jsonBody: route.Method is "POST" or "PUT" ? "{}" : null);
            if (status != 401 || contentType?.StartsWith("application/problem+json", StringComparison.Ordinal) != true)
            {
                failures.Add($"{route.Method} {path}: {status} {contentType}");
            }
        }

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("POST", "/RelayEvents")]
    [InlineData("POST", "/OrchestrationSweep")]
    [InlineData("GET", "/RelayEvents")]
    public async Task The_old_custom_handler_routes_are_not_served_and_an_anonymous_call_is_refused(string method, string path)
    {
        // No endpoint matches, so the fallback policy (an app role) decides: the request never reaches any handler.
        var (status, contentType, _) = await worker.SendAsync(method, path, jsonBody: method == "POST" ? "{}" : null);
        Assert.Equal(401, status);
        Assert.StartsWith("application/problem+json", contentType, StringComparison.Ordinal);

        var (withRole, _, _) = await worker.SendAsync(method, path, worker.Tokens.Issue("someone", [ApiRoles.Admin], TimeSpan.FromMinutes(5)), method == "POST" ? "{}" : null);
        Assert.Equal(404, withRole);
    }

    [Fact]
    public async Task A_refusal_is_audited_as_a_security_alert()
    {
        var (status, _, _) = await worker.SendAsync("GET", "/sites");
        Assert.Equal(401, status);
        Assert.Contains(worker.Audit.Records, r => r.EventType == "Unauthenticated:SitesRead" && r.EventId.Code == "110113");
    }

    [Fact]
    public async Task A_role_the_endpoint_does_not_grant_is_forbidden()
    {
        var (status, contentType, _) = await worker.SendAsync("GET", "/sites", worker.Tokens.Issue("someone", [ApiRoles.Auditor], TimeSpan.FromMinutes(5)));
        Assert.Equal(403, status);
        Assert.StartsWith("application/problem+json", contentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_lists_exactly_the_routes_the_triggers_forward()
    {
        var (status, _, body) = await worker.SendAsync("GET", "/openapi/v1.json", worker.Tokens.Issue("someone", [ApiRoles.Auditor], TimeSpan.FromMinutes(5)));
        Assert.Equal(200, status);
        var documented = JsonDocument.Parse(body).RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name.TrimStart('/')}"))
            .Order(StringComparer.Ordinal);
        var served = ApiRoutes.ServedByFunctionAppPipeline().Where(r => r.Template != "openapi/{documentName}.json")
            .Select(r => $"{r.Method} {r.Template}").Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(served, documented);
    }
}
