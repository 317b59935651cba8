using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Api.Delivery;

/// <summary>
/// The delivery source: a read-only QIDO-RS/WADO-RS front on the DICOM service for relays delivering a study to their
/// site's DICOM node. A relay reaches exactly the study its delivery token names (the DICOM service's own RBAC cannot
/// narrow to a study, so this front does), and the app reads with its own identity; answers stream through unchanged.
/// Each read is audited (not fail-closed: a study is not held in memory; its DeliveryStarted record is written before
/// the token is even issued).
/// </summary>
public static class DeliverySourceEndpoints
{
    /// <summary>Route prefix; the DeliverStudy command's source base URL is the app's base URL plus this.</summary>
    public const string Prefix = "delivery-source";

    /// <summary>Maps <c>GET /delivery-source/studies/{studyUid}/instances</c> (QIDO-RS) and <c>…/series/{seriesUid}</c> (WADO-RS).</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/" + Prefix + "/studies/{studyUid}").WithTags("Delivery source").RequireAuthorization(DeliverySourceAuthenticationHandler.PolicyName);
        group.MapGet("/instances", SearchInstancesAsync)
            .WithName("DeliverySourceSearchInstances")
            .WithMetadata(new AuditedAs(AuditEventIds.Query, AuditActionCodes.Execute, "DeliverySourceQuery"))
            .Produces(StatusCodes.Status200OK, contentType: "application/dicom+json")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("/series/{seriesUid}", RetrieveSeriesAsync)
            .WithName("DeliverySourceRetrieveSeries")
            .WithMetadata(new AuditedAs(AuditEventIds.DicomInstancesTransferred, AuditActionCodes.Execute, "DeliverySourceRetrieve"))
            .Produces(StatusCodes.Status200OK, contentType: "multipart/related")
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    private static Task SearchInstancesAsync(string studyUid, HttpContext context, DicomWebClient dicom, CancellationToken cancellationToken) =>
        ForwardAsync(context, studyUid, null, dicom, "studies/" + studyUid + "/instances" + context.Request.QueryString.Value, "application/dicom+json", cancellationToken);

    private static Task RetrieveSeriesAsync(string studyUid, string seriesUid, HttpContext context, DicomWebClient dicom, CancellationToken cancellationToken) =>
        ForwardAsync(context, studyUid, seriesUid, dicom, "studies/" + studyUid + "/series/" + seriesUid, "multipart/related; type=\"application/dicom\"; transfer-syntax=*", cancellationToken);

    private static async Task ForwardAsync(HttpContext context, string studyUid, string? seriesUid, DicomWebClient dicom, string relative, string accept, CancellationToken cancellationToken)
    {
        context.Audit().StudyInstanceUid = studyUid;
        context.Audit().Detail = "command=" + context.User.FindFirst(DeliverySourceAuthenticationHandler.CommandClaim)?.Value;
        if (!string.Equals(context.User.FindFirst(DeliverySourceAuthenticationHandler.StudyClaim)?.Value, studyUid, StringComparison.Ordinal))
        {
            await ApiProblems.Forbidden("The delivery token does not cover this study.").ExecuteAsync(context);
            return;
        }

        if (!IsUid(studyUid) || (seriesUid is not null && !IsUid(seriesUid)))
        {
            await ApiProblems.Validation(seriesUid is null ? "studyUid" : "seriesUid", "invalid", "A DICOM UID: digits and dots, at most 64 characters.").ExecuteAsync(context);
            return;
        }

        using var answer = await dicom.ForwardGetAsync(relative, accept, cancellationToken);
        context.Response.StatusCode = (int)answer.StatusCode;
        if (answer.Content.Headers.ContentType is { } type)
        {
            context.Response.ContentType = type.ToString();
        }

        await using var body = await answer.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(context.Response.Body, cancellationToken);
    }

    private static bool IsUid(string value) => value.Length is > 0 and <= 64 && value.All(c => c is '.' or (>= '0' and <= '9'));
}
