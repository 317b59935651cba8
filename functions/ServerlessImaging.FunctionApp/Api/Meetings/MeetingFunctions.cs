using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.Meetings;

/// <summary>HTTP triggers of <c>MeetingEndpoints</c> (coordinator): each forwards its request to the API pipeline.</summary>
public sealed class MeetingFunctions(ApiPipeline api)
{
    /// <summary><c>PUT /meetings/{meetingId}</c>.</summary>
    [Function("ApiPutMeeting")]
    public Task<IResult> PutMeeting([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "meetings/{meetingId}")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /meetings/{meetingId}</c>.</summary>
    [Function("ApiGetMeeting")]
    public Task<IResult> GetMeeting([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "meetings/{meetingId}")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
