using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.Delivery;

/// <summary>HTTP triggers of <c>DeliverySourceEndpoints</c> (relays with a delivery token): forward their request to the API pipeline.</summary>
public sealed class DeliverySourceFunctions(ApiPipeline api)
{
    /// <summary><c>GET /delivery-source/studies/{studyUid}/instances</c> (QIDO-RS of the token's study).</summary>
    [Function("ApiDeliverySourceSearchInstances")]
    public Task<IResult> SearchInstances([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "delivery-source/studies/{studyUid}/instances")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /delivery-source/studies/{studyUid}/series/{seriesUid}</c> (WADO-RS of a series of the token's study).</summary>
    [Function("ApiDeliverySourceRetrieveSeries")]
    public Task<IResult> RetrieveSeries([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "delivery-source/studies/{studyUid}/series/{seriesUid}")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
