using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ServerlessImaging.FunctionApp.Api.AuditTrail;

/// <summary>HTTP triggers of <c>AuditEndpoints</c> (auditor): each forwards its request to the API pipeline.</summary>
public sealed class AuditFunctions(ApiPipeline api)
{
    /// <summary><c>GET /audit</c>.</summary>
    [Function("ApiQueryAudit")]
    public Task<IResult> QueryAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>POST /audit/patient-search</c>.</summary>
    [Function("ApiSearchAuditByPatient")]
    public Task<IResult> SearchAuditByPatient([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "audit/patient-search")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /audit/verification</c>.</summary>
    [Function("ApiVerifyAudit")]
    public Task<IResult> VerifyAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit/verification")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /audit/anchor</c>.</summary>
    [Function("ApiExportAuditAnchor")]
    public Task<IResult> ExportAuditAnchor([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit/anchor")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);

    /// <summary><c>GET /audit/fhir</c>.</summary>
    [Function("ApiExportAuditFhir")]
    public Task<IResult> ExportAuditFhir([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit/fhir")] HttpRequest request, [DurableClient] DurableTaskClient durableClient) => api.RunAsync(request, durableClient);
}
