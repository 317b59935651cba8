using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Tests;

/// <summary>Test data: one meeting, one patient, the three local sites.</summary>
internal static class Fixtures
{
    public const string RegistrationId = "reg-0001";
    public const string ValidNir = "284057512345672";
    public const string ValidCorsicanNir = "185022A12345682";

    public static readonly DateTimeOffset T0 = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset MeetingStart = new(2025, 3, 22, 16, 0, 0, TimeSpan.Zero);
    public static readonly ImmutableArray<string> Sites = ["ch-est", "chu-nord", "clinique-sud"];

    public static readonly Physician Radiologist = new("Dr Radiologue", "radiologue@example.org");
    public static readonly Physician NuclearPhysician = new("Dr Nucleaire", "nucleaire@example.org");

    public static PatientIdentity Patient(Ins? ins = null) =>
        new("Lefèvre", "Martin", "Hélène", new DateOnly(1958, 4, 12), PatientSex.Female, ins);

    public static Meeting Meeting(AutoSelectPolicy? autoSelect = null, bool withOnCall = true) => new(
        "rcp-orl-2025-03-22",
        "RCP ORL",
        MeetingStart,
        "chru-tours",
        30,
        ImagingFilter.Everything,
        withOnCall ? Radiologist : null,
        withOnCall ? NuclearPhysician : null,
        autoSelect ?? AutoSelectPolicy.Manual,
        RetentionDays: 30);

    public static Registration Registration(PatientIdentity? patient = null, bool expertise = false, ImagingFilterOverride? filter = null) => new(
        RegistrationId,
        "rcp-orl-2025-03-22",
        patient ?? Patient(),
        new Consent(true, true, true, true),
        new Requester("dr-barbe", "Dr Barbe", null),
        filter,
        expertise);

    public static RegistrationPlan Plan(AutoSelectPolicy? autoSelect = null, bool expertise = false, bool withOnCall = true, ImmutableArray<string>? sites = null, ImagingFilterOverride? filter = null) =>
        RegistrationPlan.Create(Registration(expertise: expertise, filter: filter), Meeting(autoSelect, withOnCall), sites ?? Sites, "pk1-test");

    /// <summary>The patient as a PACS that files the usage name in PatientName and the birth name apart.</summary>
    public static PacsPatient PacsPatientMatching() => new(
        "MARTIN^HELENE", "LEFEVRE", "PID-1", null, new DateOnly(1958, 4, 12), "F", []);

    public static PacsPatient PacsPatientOther() => new(
        "DURAND^PAUL", null, "PID-9", null, new DateOnly(1958, 4, 12), "F", []);

    public static FoundStudy Study(string uid, PacsPatient? patient = null, DateOnly? date = null, params string[] modalities) => new(
        patient ?? PacsPatientMatching(),
        uid,
        date ?? new DateOnly(2025, 1, 10),
        "TDM THORAX",
        modalities.Length == 0 ? ["CT"] : modalities,
        2,
        120);

    /// <summary>The reference the app would keep <paramref name="instances"/> under (the state machine sees only that).</summary>
    public static StagedInstanceListReference Listed(IReadOnlyList<StagedInstance> instances, string studyUid = "1.2.3") =>
        StagedInstanceList.Describe(RegistrationId, studyUid, instances).Reference;

    public static IReadOnlyList<StagedInstance> Manifest(string studyUid, int count = 2) =>
        [.. Enumerable.Range(1, count).Select(i => new StagedInstance(studyUid + ".1", $"{studyUid}.1.{i}", $"{RegistrationId}/{studyUid}/{i}.dcm", 1000 + i, new string('a', 64)))];
}
