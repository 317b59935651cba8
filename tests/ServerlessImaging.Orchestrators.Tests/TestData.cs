using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestrators.Tests;

/// <summary>
/// Test data: one patient, a meeting in the future (so the purge timer stays far away unless a test brings it near),
/// studies of that patient. The same shapes as the pure orchestrator's tests, but times are real (now): the engine's
/// durable timers fire against the wall clock.
/// </summary>
internal static class TestData
{
    public const string MeetingId = "rcp-orl-it";

    public static readonly Physician Radiologist = new("Dr Radiologue", "radiologue@example.org");
    public static readonly Physician NuclearPhysician = new("Dr Nucleaire", "nucleaire@example.org");

    public static PatientIdentity Patient() => new("Lefèvre", "Martin", "Hélène", new DateOnly(1958, 4, 12), PatientSex.Female, null);

    public static Meeting Meeting(DateTimeOffset startsAt, int retentionDays) => new(
        MeetingId,
        "RCP ORL",
        startsAt,
        "chru-tours",
        30,
        ImagingFilter.Everything,
        Radiologist,
        NuclearPhysician,
        AutoSelectPolicy.Manual,
        retentionDays);

    public static Registration Registration(string registrationId) => new(
        registrationId,
        MeetingId,
        Patient(),
        new Consent(true, true, true, true),
        new Requester("dr-barbe", "Dr Barbe", null),
        null,
        false);

    /// <summary>A plan over <paramref name="sites"/>; the meeting starts in 30 days unless <paramref name="meetingStartsAt"/> says otherwise.</summary>
    public static RegistrationPlan Plan(string registrationId, IEnumerable<string> sites, OrchestrationSettings? settings = null, DateTimeOffset? meetingStartsAt = null, int retentionDays = 30) =>
        RegistrationPlan.Create(Registration(registrationId), Meeting(meetingStartsAt ?? DateTimeOffset.UtcNow.AddDays(30), retentionDays), sites, "pk1-test", settings);

    /// <summary>The patient as a PACS that files the usage name in PatientName and the birth name apart.</summary>
    public static PacsPatient PacsPatientMatching() => new("MARTIN^HELENE", "LEFEVRE", "PID-1", null, new DateOnly(1958, 4, 12), "F", []);

    public static FoundStudy Study(string uid) => new(PacsPatientMatching(), uid, new DateOnly(2025, 1, 10), "TDM THORAX", ["CT"], 2, 120);

    /// <summary>The answer of <paramref name="siteId"/> to its first find attempt (round 1), with a unique event id.</summary>
    public static StudiesFoundAtSite Found(string registrationId, string siteId, params string[] studyUids)
    {
        var commandId = CommandIds.Find(registrationId, siteId, 1, 1);
        return new StudiesFoundAtSite(commandId + "/answer", DateTimeOffset.UtcNow, siteId, commandId, [.. studyUids.Select(Study)]);
    }

    // The reference of a manifest as the app keeps it: the orchestration never sees the list itself.
    public static StagedInstanceListReference Manifest(string registrationId, string studyUid, int count = 2) =>
        StagedInstanceList.Describe(registrationId, studyUid, [.. Enumerable.Range(1, count).Select(i => new StagedInstance(studyUid + ".1", $"{studyUid}.1.{i}", $"{registrationId}/{studyUid}/{i}.dcm", 1000 + i, new string('a', 64)))]).Reference;

    public static ImmutableArray<string> Sites(params string[] sites) => [.. sites];
}
