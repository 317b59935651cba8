using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.Sites;

/// <summary>HTTP trigger of <c>SiteEndpoints</c> (admin): forwards its request to the API pipeline.</summary>
public sealed class SiteFunctions(ApiPipeline api)
{
    /// <summary><c>GET /sites</c>.</summary>
    [Function("ApiListSites")]
    public Task<IResult> ListSites([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "sites")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
