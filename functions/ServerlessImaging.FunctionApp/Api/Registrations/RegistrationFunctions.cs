using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.Registrations;

/// <summary>HTTP triggers of <c>RegistrationEndpoints</c> (registrar): each forwards its request to the API pipeline.</summary>
public sealed class RegistrationFunctions(ApiPipeline api)
{
    /// <summary><c>POST /meetings/{meetingId}/registrations</c>.</summary>
    [Function("ApiRegisterPatient")]
    public Task<IResult> RegisterPatient([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "meetings/{meetingId}/registrations")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /meetings/{meetingId}/registrations</c> (registrar or coordinator).</summary>
    [Function("ApiListMeetingRegistrations")]
    public Task<IResult> ListMeetingRegistrations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "meetings/{meetingId}/registrations")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /registrations/{registrationId}</c>.</summary>
    [Function("ApiGetRegistration")]
    public Task<IResult> GetRegistration([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "registrations/{registrationId}")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /registrations/{registrationId}/manifest</c>.</summary>
    [Function("ApiGetRegistrationManifest")]
    public Task<IResult> GetRegistrationManifest([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "registrations/{registrationId}/manifest")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>POST /registrations/{registrationId}/selection</c>.</summary>
    [Function("ApiSelectStudies")]
    public Task<IResult> SelectStudies([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "registrations/{registrationId}/selection")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>POST /registrations/{registrationId}/refresh</c>.</summary>
    [Function("ApiRefreshRegistration")]
    public Task<IResult> RefreshRegistration([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "registrations/{registrationId}/refresh")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>DELETE /registrations/{registrationId}/studies/{studyUid}</c>.</summary>
    [Function("ApiDeleteStudy")]
    public Task<IResult> DeleteStudy([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "registrations/{registrationId}/studies/{studyUid}")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>POST /registrations/{registrationId}/expertise-request</c>.</summary>
    [Function("ApiRequestExpertise")]
    public Task<IResult> RequestExpertise([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "registrations/{registrationId}/expertise-request")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
