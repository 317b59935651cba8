using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessImaging.Cloud.Api;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.FunctionApp.Api;

/// <summary>
/// The HTTP API's ASP.NET Core pipeline, composed exactly as the standalone host composes it (<see cref="Compose"/>:
/// <see cref="HttpApi.UseHttpApi"/> — problem+json, authentication, request audit, authorization, the endpoints, the
/// OpenAPI document — and the liveness probe), built once over the worker's own service provider, and run by every HTTP
/// trigger on the request the Functions host forwarded (<see cref="RunAsync"/>). The triggers only tell the Functions
/// host which routes to forward; which endpoint answers, and how, is decided here, the same way in both hosts.
/// </summary>
public sealed class ApiPipeline
{
    private readonly RequestDelegate pipeline;
    private readonly DurableClientHolder durableClient;

    /// <summary>Builds the pipeline over <paramref name="services"/> (the worker's root provider: one set of singletons for triggers and API).</summary>
    public ApiPipeline(IServiceProvider services, DurableClientHolder durableClient)
    {
        ArgumentNullException.ThrowIfNull(services);
        this.durableClient = durableClient;

        // UseHttpApi composes a WebApplication, so one is built here only to carry the composition: its container is the
        // worker's own (the factory hands the worker's provider back), so the middleware, the endpoints' parameter binding
        // and the OpenAPI document see the services the triggers and activities use. It is never started or disposed.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        ((IHostApplicationBuilder)builder).ConfigureContainer(new ExistingServiceProvider(services));
        var app = builder.Build();
        Compose(app);
        pipeline = ((IApplicationBuilder)app).Build();
    }

    /// <summary>
    /// The API's composition: routing, <see cref="HttpApi.UseHttpApi"/> and the anonymous liveness probe (as the standalone
    /// host's Program.cs maps it), then the endpoints. Public so tests list the routes this pipeline serves.
    /// </summary>
    public static WebApplication Compose(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRouting();
        app.UseHttpApi();
        app.MapLiveness();
        app.UseEndpoints(_ => { });
        return app;
    }

    /// <summary>
    /// Runs the pipeline on the request a trigger received (the response is written by the time this returns) after
    /// handing the trigger's Durable Task client to the runtime.
    /// </summary>
    /// <returns>An empty result: the response is already written, the worker has nothing to add.</returns>
    public async Task<IResult> RunAsync(HttpRequest request, DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(request);
        durableClient.Provide(client);

        // The worker's routing matched the function's own endpoint; the API's routing matches the API's endpoint.
        var context = request.HttpContext;
        context.SetEndpoint(null);
        context.Request.RouteValues = [];
        await pipeline(context);
        return Results.Empty;
    }

    private sealed class ExistingServiceProvider(IServiceProvider services) : IServiceProviderFactory<IServiceCollection>
    {
        public IServiceCollection CreateBuilder(IServiceCollection services) => services;

        public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder) => services;
    }
}
