using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.Platform;

/// <summary>HTTP triggers of the OpenAPI document and the liveness probe: each forwards its request to the API pipeline.</summary>
public sealed class PlatformFunctions(ApiPipeline api)
{
    /// <summary><c>GET /openapi/{documentName}.json</c> (any app role).</summary>
    [Function("ApiOpenApiDocument")]
    public Task<IResult> OpenApiDocument([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi/{documentName}.json")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /healthz</c> (anonymous liveness probe).</summary>
    [Function("Healthz")]
    public Task<IResult> Healthz([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "healthz")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
