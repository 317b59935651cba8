using System.Globalization;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Integrity;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Cloud.Api.AuditTrail;

/// <summary>Body of <c>POST /audit/patient-search</c>: the strong traits (never in a URL) plus the page wanted.</summary>
public sealed record PatientSearchBody(string BirthName, string FirstName, DateOnly BirthDate, PatientSex Sex, DateTimeOffset? From = null, DateTimeOffset? To = null, int? PageSize = null, string? ContinuationToken = null);

/// <summary>A page of the audit trail.</summary>
public sealed record AuditPageView(IReadOnlyList<AuditRecord> Records, string? ContinuationToken, string? PatientKey = null);

/// <summary>A signed chain anchor and the public key (SubjectPublicKeyInfo, base64) it verifies with.</summary>
public sealed record AuditAnchorView(AuditChainAnchor Anchor, string PublicKey);

/// <summary>Auditor endpoints. Reading the trail is itself audited (110101 Audit Log Used).</summary>
public static class AuditEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/audit").WithTags("Audit").RequireAuthorization(ApiRoles.Policy(ApiRoles.Auditor));
        group.MapGet(string.Empty, QueryAsync)
            .WithName("QueryAudit")
            .WithMetadata(new AuditedAs(AuditEventIds.AuditLogUsed, AuditActionCodes.Read, "AuditQueried"))
            .Produces<AuditPageView>()
            .Produces(StatusCodes.Status200OK, contentType: FhirAuditExport.MediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapPost("/patient-search", PatientSearchAsync)
            .WithName("SearchAuditByPatient")
            .WithMetadata(new AuditedAs(AuditEventIds.AuditLogUsed, AuditActionCodes.Read, "AuditPatientSearch"))
            .Accepts<PatientSearchBody>("application/json")
            .Produces<AuditPageView>()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/verification", VerifyAsync)
            .WithName("VerifyAudit")
            .WithMetadata(new AuditedAs(AuditEventIds.AuditLogUsed, AuditActionCodes.Read, "AuditVerified"))
            .Produces<AuditVerificationReport>()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/anchor", ExportAnchorAsync)
            .WithName("ExportAuditAnchor")
            .WithMetadata(new AuditedAs(AuditEventIds.AuditLogUsed, AuditActionCodes.Read, "AuditAnchorExported"))
            .Produces<AuditAnchorView>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/fhir", FhirAsync)
            .WithName("ExportAuditFhir")
            .WithMetadata(new AuditedAs(AuditEventIds.AuditLogUsed, AuditActionCodes.Read, "AuditExportedFhir"))
            .Produces(StatusCodes.Status200OK, contentType: FhirAuditExport.MediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
    }

    private static async Task<IResult> QueryAsync(
        HttpContext context, IAuditTrail trail, CancellationToken cancellationToken,
        string? patientKey = null, string? userId = null, string? siteId = null, string? registrationId = null,
        string? from = null, string? to = null, string? pageSize = null, string? continuationToken = null)
    {
        var wantsFhir = context.Request.Headers.Accept.Any(a => a is not null && a.Contains(FhirAuditExport.MediaType, StringComparison.OrdinalIgnoreCase));
        return await RunQueryAsync(context, trail, wantsFhir, patientKey, userId, siteId, registrationId, from, to, pageSize, continuationToken, cancellationToken);
    }

    private static Task<IResult> FhirAsync(
        HttpContext context, IAuditTrail trail, CancellationToken cancellationToken,
        string? patientKey = null, string? userId = null, string? siteId = null, string? registrationId = null,
        string? from = null, string? to = null, string? pageSize = null, string? continuationToken = null) =>
        RunQueryAsync(context, trail, fhir: true, patientKey, userId, siteId, registrationId, from, to, pageSize, continuationToken, cancellationToken);

    private static async Task<IResult> RunQueryAsync(
        HttpContext context, IAuditTrail trail, bool fhir, string? patientKey, string? userId, string? siteId, string? registrationId,
        string? from, string? to, string? pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var fromAt = ParseTime(from, "from", errors);
        var toAt = ParseTime(to, "to", errors);
        var size = ParsePageSize(pageSize, errors);
        if (patientKey is not null)
        {
            // Only pseudonyms here: a name or an INS pasted into the URL would end up in proxies' logs.
            errors.Require(patientKey.StartsWith("pk1-", StringComparison.Ordinal) && patientKey.Length == 36, "patientKey", "not_a_patient_key", "A pseudonymous patient key (pk1-…); search by traits with POST /audit/patient-search.");
        }

        if (!errors.IsValid)
        {
            return ApiProblems.Validation(errors.Errors);
        }

        var query = new AuditQuery(patientKey, userId, siteId, registrationId, fromAt, toAt, size, continuationToken);
        return await PageAsync(context, trail, query, fhir, null, cancellationToken);
    }

    private static async Task<IResult> PatientSearchAsync(HttpContext context, IAuditTrail trail, PatientKeyFunction patientKeyOf, CancellationToken cancellationToken)
    {
        var body = await JsonBodyReader.ReadAsync<PatientSearchBody>(context.Request, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var search = body.Value!;
        var errors = new ValidationErrors();
        errors.RequireText(search.BirthName, "birthName", 64);
        errors.RequireText(search.FirstName, "firstName", 64);
        errors.Require(Enum.IsDefined(search.Sex), "sex", "unknown", "Sex must be Female, Male or Other.");
        var size = ParsePageSize(search.PageSize?.ToString(CultureInfo.InvariantCulture), errors);
        if (!errors.IsValid)
        {
            return ApiProblems.Validation(errors.Errors);
        }

        var key = patientKeyOf(new PatientIdentity(search.BirthName, null, search.FirstName, search.BirthDate, search.Sex, null));
        context.Audit().PatientKey = key;
        var query = new AuditQuery(PatientKey: key, From: search.From, To: search.To, PageSize: size, ContinuationToken: search.ContinuationToken);
        return await PageAsync(context, trail, query, fhir: false, key, cancellationToken);
    }

    private static async Task<IResult> PageAsync(HttpContext context, IAuditTrail trail, AuditQuery query, bool fhir, string? patientKey, CancellationToken cancellationToken)
    {
        AuditPage page;
        try
        {
            page = await trail.QueryAsync(query, cancellationToken);
        }
        catch (InvalidContinuationTokenException)
        {
            return ApiProblems.Validation("continuationToken", "invalid", "Not a continuation token this service issued.");
        }

        context.Audit().Detail = $"{page.Records.Count} record(s)";
        if (!fhir)
        {
            return new ApiValueResult(StatusCodes.Status200OK, new AuditPageView(page.Records, page.ContinuationToken, patientKey));
        }

        string? next = null;
        if (page.ContinuationToken is not null)
        {
            var parameters = context.Request.Query
                .Where(p => !string.Equals(p.Key, "continuationToken", StringComparison.OrdinalIgnoreCase))
                .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value.ToString()))
                .Append("continuationToken=" + Uri.EscapeDataString(page.ContinuationToken));
            next = "/audit/fhir?" + string.Join('&', parameters);
        }

        return Results.Text(FhirAuditExport.Serialize(FhirAuditExport.ToBundle(page, next)), FhirAuditExport.MediaType, System.Text.Encoding.UTF8);
    }

    /// <summary>Longest time range one verification walks (each day's records are read in full).</summary>
    public static readonly TimeSpan MaxVerificationRange = TimeSpan.FromDays(31);

    // GET /audit/verification?registrationId=… (that registration's whole trail) or ?from=…&to=… (default: the last 24 h).
    private static async Task<IResult> VerifyAsync(
        HttpContext context, CosmosAuditVerification verification, TimeProvider time, CancellationToken cancellationToken,
        string? registrationId = null, string? from = null, string? to = null)
    {
        var errors = new ValidationErrors();
        var fromAt = ParseTime(from, "from", errors);
        var toAt = ParseTime(to, "to", errors);
        if (registrationId is not null && (fromAt is not null || toAt is not null))
        {
            errors.Add("registrationId", "exclusive", "Either a registration or a time range.");
        }

        var end = toAt ?? time.GetUtcNow();
        var start = fromAt ?? end.AddDays(-1);
        errors.Require(registrationId is not null || (start <= end && end - start <= MaxVerificationRange), "from", "out_of_range", "from before to, at most 31 days apart.");
        if (!errors.IsValid)
        {
            return ApiProblems.Validation(errors.Errors);
        }

        var report = registrationId is not null
            ? await verification.VerifyRegistrationAsync(registrationId, null, cancellationToken)
            : await verification.VerifyRangeAsync(start, end, null, cancellationToken);
        context.Audit().Detail = $"{report.RecordsChecked} record(s), {report.Findings.Count(f => f.IsTampering)} tampering finding(s)";
        return new ApiValueResult(StatusCodes.Status200OK, report);
    }

    // GET /audit/anchor: the chain head signed now, to keep outside the database (a later rewrite of the chain cannot match it).
    private static async Task<IResult> ExportAnchorAsync(HttpContext context, CosmosAuditTrail trail, AuditAnchorSigning signing, TimeProvider time, CancellationToken cancellationToken)
    {
        if (signing.Signer is not { } signer)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "No anchor signing key is configured.", type: ApiProblems.TypeBase + "anchor-signing-unavailable");
        }

        var anchor = await AuditAnchorIssuer.IssueAsync(trail.Chain, signer, time, cancellationToken);
        if (anchor is null)
        {
            return ApiProblems.Conflict("Nothing was sealed yet.", "audit-chain-empty");
        }

        context.Audit().Detail = $"anchor at block {anchor.Head.Position}";
        return new ApiValueResult(StatusCodes.Status200OK, new AuditAnchorView(anchor, Convert.ToBase64String(await signer.PublicKeyAsync(cancellationToken))));
    }

    private static DateTimeOffset? ParseTime(string? value, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return parsed;
        }

        errors.Add(field, "invalid_date_time", "An ISO 8601 date-time (e.g. 2026-03-14T08:00:00Z).");
        return null;
    }

    private static int ParsePageSize(string? value, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return 50;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= AuditQuery.MaxPageSize)
        {
            return size;
        }

        errors.Add("pageSize", "out_of_range", $"Between 1 and {AuditQuery.MaxPageSize}.");
        return 50;
    }
}
