using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.Cloud.Api;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>A route an HTTP function must serve: method (upper case), template without the leading slash, and whether its endpoint allows anonymous callers.</summary>
public sealed record ApiRoute(string Method, string Template, string? EndpointName, bool AllowsAnonymous = false);

/// <summary>
/// The routes the API maps, read from the route endpoints of a WebApplication composed like a host (AddHttpApi,
/// AddOrchestrationRuntime) and never started: nothing is resolved, nothing connects.
/// </summary>
public static class ApiRoutes
{
    /// <summary>The liveness probe, mapped by each host (not by the Cloud library).</summary>
    public static readonly ApiRoute Liveness = new("GET", "healthz", null, AllowsAnonymous: true);

    /// <summary>What <see cref="HttpApi.UseHttpApi"/> maps (the Cloud library's endpoints and the OpenAPI document).</summary>
    public static IReadOnlyList<ApiRoute> MappedByCloud() => Read(app => app.UseHttpApi());

    /// <summary>What the Functions app's pipeline serves (<see cref="Api.ApiPipeline.Compose"/>).</summary>
    public static IReadOnlyList<ApiRoute> ServedByFunctionAppPipeline() => Read(app => Api.ApiPipeline.Compose(app));

    private static List<ApiRoute> Read(Action<WebApplication> compose)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["DicomWeb:BaseUrl"] = "http://127.0.0.1:9/dicom-web/",
        });
        builder.Services.AddHttpApi(builder.Configuration, builder.Environment);
        builder.Services.AddOrchestrationRuntime(builder.Configuration);
        var app = builder.Build();
        compose(app);
        return [.. ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => new ApiRoute(
                method.ToUpperInvariant(),
                endpoint.RoutePattern.RawText!.Trim('/'),
                endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName,
                endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null)))];
    }
}
