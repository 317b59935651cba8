using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ServerlessImaging.Adapters.Idempotency;
using ServerlessImaging.Cloud.Api.Http;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Api.Registrations;

/// <summary>Registrar endpoints: register a patient, follow the registration, act on it.</summary>
public static class RegistrationEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        var registrar = ApiRoles.Policy(ApiRoles.Registrar);
        routes.MapPost("/meetings/{meetingId}/registrations", RegisterAsync)
            .WithTags("Registrations").WithName("RegisterPatient").RequireAuthorization(registrar)
            .WithMetadata(new AuditedAs(AuditEventIds.PatientRecord, AuditActionCodes.Create, "RegistrationRequested"))
            .Accepts<RegistrationBody>("application/json")
            .Produces<RegistrationAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        var group = routes.MapGroup("/registrations/{registrationId}").WithTags("Registrations").RequireAuthorization(registrar);
        group.MapGet(string.Empty, GetStatusAsync)
            .WithName("GetRegistration")
            .WithMetadata(new AuditedAs(AuditEventIds.PatientRecord, AuditActionCodes.Read, "RegistrationStatusRead"))
            .Produces<RegistrationStatusView>()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/manifest", GetManifestAsync)
            .WithName("GetRegistrationManifest")
            .WithMetadata(new AuditedAs(AuditEventIds.PatientRecord, AuditActionCodes.Read, "ManifestRead"))
            .Produces(StatusCodes.Status200OK, contentType: "application/dicom+json", additionalContentTypes: ["application/dicom"])
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/selection", SelectAsync)
            .WithName("SelectStudies")
            .WithMetadata(new AuditedAs(AuditEventIds.PatientRecord, AuditActionCodes.Update, "SelectionRequested"))
            .Accepts<SelectionBody>("application/json")
            .Produces<EventAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/refresh", RefreshAsync)
            .WithName("RefreshRegistration")
            .WithMetadata(new AuditedAs(AuditEventIds.Query, AuditActionCodes.Execute, "RefreshRequested"))
            .Produces<EventAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/studies/{studyUid}", DeleteStudyAsync)
            .WithName("DeleteStudy")
            .WithMetadata(new AuditedAs(AuditEventIds.DicomStudyDeleted, AuditActionCodes.Delete, "StudyDeleteRequested"))
            .Produces<EventAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/expertise-request", RequestExpertiseAsync)
            .WithName("RequestExpertise")
            .WithMetadata(new AuditedAs(AuditEventIds.Export, AuditActionCodes.Execute, "ExpertiseRequested"))
            .Produces<EventAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Status URL of a registration.</summary>
    public static string StatusUrl(string registrationId) => "/registrations/" + Uri.EscapeDataString(registrationId);

    private static async Task<IResult> RegisterAsync(
        string meetingId, HttpContext context, IMeetingStore meetings, IRegistrationOrchestrationClient orchestrations,
        IIdempotencyStore idempotency, IMeetingCapacity capacity, PatientKeyFunction patientKeyOf, TimeProvider time, CancellationToken cancellationToken)
    {
        // With a key, the id is derived from it: a retry after a crash starts (or finds) the same instance. Every
        // record of this request (refusals included) is filed under the id the registration has or would have had.
        var operation = "POST /meetings/" + meetingId + "/registrations";
        var key = IdempotentRequests.KeyOf(context);
        var registrationId = key is null
            ? "reg-" + Guid.NewGuid().ToString("N")
            : "reg-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(IdempotentRequests.CallerOf(context) + "\u001f" + operation + "\u001f" + key)).AsSpan(0, 16));
        context.Audit().RegistrationId = registrationId;

        var body = await JsonBodyReader.ReadAsync<RegistrationBody>(context.Request, cancellationToken);
        if (body.Problem is not null)
        {
            context.Audit().Detail = "refused: malformed body";
            return body.Problem;
        }

        return await IdempotentRequests.RunAsync(context, idempotency, time, operation, body.Raw, async () =>
        {
            var request = body.Value!;
            var registration = new Registration(registrationId, meetingId, request.Patient, request.Consent, request.Requester, request.FilterOverride, request.ExpertiseRequested);
            var errors = RegistrationValidator.Validate(registration, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
            if (errors.Count > 0)
            {
                // A refusal for another reason than the traits (e.g. consent) is still filed under the patient's key.
                if (!errors.Any(e => e.Field.StartsWith("patient", StringComparison.Ordinal)))
                {
                    context.Audit().PatientKey = patientKeyOf(registration.Patient);
                }

                context.Audit().Detail = "refused: " + string.Join(", ", errors.Select(e => e.Field + "=" + e.Code).Distinct());
                return ApiProblems.Validation(errors);
            }

            var facts = context.Audit();
            facts.PatientKey = patientKeyOf(registration.Patient);
            facts.Detail = "consent given (all four items)" + (request.ExpertiseRequested ? "; expertise requested" : string.Empty);

            var meeting = await meetings.GetAsync(meetingId, cancellationToken);
            if (meeting is null)
            {
                facts.Detail = "refused: no such meeting";
                return ApiProblems.NotFound("meeting");
            }

            // Saved while its retention ran, now over: the registration would be purged at once.
            if (meeting.Meeting.RetentionEndedBy(time.GetUtcNow()))
            {
                facts.Detail = "refused: meeting retention ended";
                return ApiProblems.Conflict("The meeting's retention has ended: a registration would be purged at once.", "meeting-retention-ended");
            }

            // The meeting's capacity: a place per registration, reserved first (idempotent for a retried registration).
            if (!await capacity.TryReserveAsync(meetingId, registrationId, meeting.Meeting.Capacity, cancellationToken))
            {
                facts.Detail = "refused: meeting full";
                return ApiProblems.Conflict("The meeting has no place left (capacity reached).", "meeting-full");
            }

            // The registration id already encodes caller + operation + key, so it is the start's idempotency key
            // (the client's raw key would collide across callers).
            OrchestrationStartResult started;
            try
            {
                started = await orchestrations.StartNewAsync(meeting.Meeting, registration, registrationId, cancellationToken);
            }
            catch
            {
                await capacity.ReleaseAsync(meetingId, registrationId, CancellationToken.None);
                throw;
            }
            facts.RegistrationId = started.RegistrationId;
            var url = StatusUrl(started.RegistrationId);
            return new ApiValueResult(StatusCodes.Status202Accepted, new RegistrationAccepted(started.RegistrationId, url), url);
        }, cancellationToken);
    }

    /// <summary>The longest a status read with <c>afterVersion</c> waits for the next step (then it answers the state as it is).</summary>
    public static readonly TimeSpan MaxStatusWait = TimeSpan.FromSeconds(20);

    private static async Task<IResult> GetStatusAsync(string registrationId, HttpContext context, IRegistrationOrchestrationClient orchestrations, IConfiguration configuration, CancellationToken cancellationToken, string? afterVersion = null)
    {
        // A client following a registration waits here for its next step instead of polling: one read (and one audit
        // record) per change, and the change seen as soon as it is recorded.
        long? after = null;
        if (afterVersion is not null)
        {
            if (!long.TryParse(afterVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ApiProblems.Validation("afterVersion", "not_a_version", "A version number this resource returned (a non-negative integer).");
            }

            after = parsed;
        }

        var status = after is { } version
            ? await orchestrations.WaitForChangeAsync(registrationId, version, MaxStatusWait, cancellationToken)
            : await orchestrations.GetStatusAsync(registrationId, cancellationToken);
        if (status is null)
        {
            return ApiProblems.NotFound("registration");
        }

        context.Audit().PatientKey = status.State.Plan?.PatientKey;
        var template = configuration[CloudAppSettings.ViewerStudyUrlTemplate.Replace("__", ":", StringComparison.Ordinal)];
        return new ApiValueResult(StatusCodes.Status200OK, RegistrationStatusView.From(status, template));
    }

    private static async Task<IResult> GetManifestAsync(string registrationId, HttpContext context, IRegistrationOrchestrationClient orchestrations, IDicomStore dicom, CancellationToken cancellationToken)
    {
        var status = await orchestrations.GetStatusAsync(registrationId, cancellationToken);
        if (status is null)
        {
            return ApiProblems.NotFound("registration");
        }

        context.Audit().PatientKey = status.State.Plan?.PatientKey;

        // The manifest served is the one published in the DICOM service (what a meeting site retrieves), never one built here.
        var published = status.State.Manifest;
        var bytes = published is { DocumentUid: { } documentUid, StudyInstanceUid: { } studyUid, SeriesInstanceUid: { } seriesUid }
            ? await dicom.ReadInstanceAsync(studyUid, seriesUid, documentUid, MaxManifestBytes, cancellationToken)
            : null;
        if (bytes is null)
        {
            return status.State.Selected.Any(s => s.Status == StudyStatus.Available) || published?.InFlightCommandId is not null
                ? ApiProblems.Conflict("The manifest of the available studies is being published: ask again in a few seconds.", "manifest-not-ready")
                : ApiProblems.Conflict("No study of this registration is available yet: there is nothing to list.", "manifest-empty");
        }

        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("application/dicom", StringComparison.OrdinalIgnoreCase) && !accept.Contains("application/dicom+json", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Bytes(bytes, "application/dicom");
        }

        var manifest = await Dicom.DicomFile.OpenAsync(new MemoryStream(bytes, writable: false), cancellationToken: cancellationToken);
        return Results.Text("[" + Dicom.DicomJson.Serialize(manifest.Dataset) + "]", "application/dicom+json", Encoding.UTF8);
    }

    // A manifest lists instance references only: even thousands of them stay far below this.
    private const int MaxManifestBytes = 16 * 1024 * 1024;

    private static async Task<IResult> SelectAsync(
        string registrationId, HttpContext context, IRegistrationOrchestrationClient orchestrations, IIdempotencyStore idempotency, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await JsonBodyReader.ReadAsync<SelectionBody>(context.Request, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var uids = body.Value!.StudyInstanceUids;
        if (uids.Count == 0 || uids.Count > 200 || uids.Any(u => string.IsNullOrWhiteSpace(u) || u.Length > 64))
        {
            return ApiProblems.Validation("studyInstanceUids", "invalid", "Between 1 and 200 Study Instance UIDs of at most 64 characters.");
        }

        return await IdempotentRequests.RunAsync(context, idempotency, time, "POST /registrations/" + registrationId + "/selection", body.Raw, () =>
            RaiseAsync(context, orchestrations, registrationId, "selection", eventId => new SelectionMade(eventId, time.GetUtcNow(), [.. uids.Distinct(StringComparer.Ordinal)], Actor(context)), cancellationToken),
            cancellationToken);
    }

    private static Task<IResult> RefreshAsync(string registrationId, HttpContext context, IRegistrationOrchestrationClient orchestrations, TimeProvider time, CancellationToken cancellationToken) =>
        RaiseAsync(context, orchestrations, registrationId, "refresh", eventId => new RefreshRequested(eventId, time.GetUtcNow(), Actor(context)), cancellationToken);

    private static Task<IResult> DeleteStudyAsync(string registrationId, string studyUid, HttpContext context, IRegistrationOrchestrationClient orchestrations, TimeProvider time, CancellationToken cancellationToken)
    {
        context.Audit().StudyInstanceUid = studyUid;
        return RaiseAsync(context, orchestrations, registrationId, "delete/" + studyUid, eventId => new StudyDeleteRequested(eventId, time.GetUtcNow(), studyUid, Actor(context)), cancellationToken);
    }

    private static Task<IResult> RequestExpertiseAsync(string registrationId, HttpContext context, IRegistrationOrchestrationClient orchestrations, TimeProvider time, CancellationToken cancellationToken) =>
        RaiseAsync(context, orchestrations, registrationId, "expertise", eventId => new ExpertiseRequested(eventId, time.GetUtcNow(), Actor(context)), cancellationToken);

    private static string Actor(HttpContext context) => IdempotentRequests.CallerOf(context);

    private static async Task<IResult> RaiseAsync(HttpContext context, IRegistrationOrchestrationClient orchestrations, string registrationId, string operation, Func<string, OrchestrationEvent> create, CancellationToken cancellationToken)
    {
        // The event id deduplicates in the orchestrator: with an Idempotency-Key a retry is the same event.
        var key = IdempotentRequests.KeyOf(context);
        var eventId = key is null
            ? $"api/{registrationId}/{operation}/{Guid.NewGuid():N}"
            : $"api/{registrationId}/{operation}/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(IdempotentRequests.CallerOf(context) + "\u001f" + key)).AsSpan(0, 16));
        var result = await orchestrations.RaiseEventAsync(registrationId, create(eventId), cancellationToken);
        if (result is null)
        {
            return ApiProblems.NotFound("registration");
        }

        var facts = context.Audit();
        facts.PatientKey = result.Status.State.Plan?.PatientKey;
        var disposition = result.Disposition;
        facts.Detail = disposition.Kind + (disposition.Reason == DispositionReason.None ? string.Empty : "/" + disposition.Reason);
        if (disposition.Kind == DispositionKind.Rejected)
        {
            return disposition.Reason switch
            {
                DispositionReason.UnknownStudy => ApiProblems.Validation(operation == "selection" ? "studyInstanceUids" : "studyUid", "unknown_study", "Not a study of this registration's candidate list."),
                DispositionReason.NoRecipients => ApiProblems.Validation("meeting", "no_recipients", "The meeting has no on-call radiologist or nuclear-medicine physician to send the request to."),
                _ => ApiProblems.Validation("registration", "rejected", "The registration refused this request."),
            };
        }

        if (disposition.Reason == DispositionReason.RegistrationPurged)
        {
            return ApiProblems.Conflict("The registration's working copy was purged.", "registration-purged");
        }

        var url = StatusUrl(registrationId);
        return new ApiValueResult(StatusCodes.Status202Accepted, new EventAccepted(registrationId, disposition.Kind + (disposition.Reason == DispositionReason.None ? string.Empty : "/" + disposition.Reason), url), url);
    }
}
