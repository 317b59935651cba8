using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Cloud.Api.Http;

/// <summary>
/// problem+json answers (RFC 9457). Field errors carry the field path, a stable code and a message that
/// never echoes what was submitted (it may be patient data).
/// </summary>
public static class ApiProblems
{
    /// <summary>Base of our problem type URIs.</summary>
    public const string TypeBase = "https://serverless-imaging.example/problems/";

    /// <summary>422 with field errors.</summary>
    public static IResult Validation(IReadOnlyList<FieldError> errors) => Results.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "The request has invalid fields.",
        type: TypeBase + "validation",
        extensions: new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { field = e.Field, code = e.Code, message = e.Message }).ToArray() });

    /// <summary>422 with one field error.</summary>
    public static IResult Validation(string field, string code, string message) => Validation([new FieldError(field, code, message)]);

    /// <summary>400: the body is not the JSON we expect (the path says where; the value is never quoted).</summary>
    public static IResult MalformedBody(string? path, string reason) => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "The request body is not valid JSON for this operation.",
        type: TypeBase + "malformed-body",
        extensions: new Dictionary<string, object?> { ["errors"] = new[] { new { field = string.IsNullOrEmpty(path) ? "$" : path, code = "malformed", message = reason } } });

    /// <summary>404 for a resource kind (the id is the caller's own, but not echoed anyway).</summary>
    public static IResult NotFound(string what) => Results.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: $"No such {what}.",
        type: TypeBase + "not-found");

    /// <summary>403: authenticated, but not for this resource.</summary>
    public static IResult Forbidden(string title) => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: title);

    /// <summary>409 with a stable type.</summary>
    public static IResult Conflict(string title, string type) => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: title, type: TypeBase + type);

    /// <summary>503: a read whose audit record could not be written is not answered (fail closed); nothing of it is returned.</summary>
    public static IResult AuditUnavailable() => Results.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The audit trail is unavailable, so this read cannot be recorded and is not answered; retry later.",
        type: TypeBase + "audit-unavailable");

    /// <summary>422 for an idempotency key reused with another body.</summary>
    public static IResult IdempotencyKeyReused() => Results.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "This Idempotency-Key was already used with a different request.",
        type: TypeBase + "idempotency-key-reused");
}
