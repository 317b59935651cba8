using System.Collections.Immutable;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Adapters.Tests.Support;

/// <summary>Small domain values for adapter tests (synthetic identities only).</summary>
internal static class Samples
{
    public static Meeting Meeting(string id, string title = "RCP thoracique") => new(
        id, title, new DateTimeOffset(2030, 5, 14, 14, 0, 0, TimeSpan.FromHours(2)), "CHU Nord", 20, ImagingFilter.Everything,
        new Physician("Dr Radio", "radio@example.org"), null, AutoSelectPolicy.Manual, 30);

    public static Registration Registration(string id, string meetingId) => new(
        id, meetingId, new PatientIdentity("TESTNOM", null, "Alice", new DateOnly(1961, 4, 2), PatientSex.Female, null),
        new Consent(true, true, true, true), new Requester("u1", "Dr Demandeur", null), null, false);

    /// <summary>A started state (real orchestrator transition), and the commands it produced.</summary>
    public static Transition Started(string registrationId, params string[] siteIds)
    {
        var meeting = Meeting("m-" + registrationId);
        var plan = RegistrationPlan.Create(Registration(registrationId, meeting.Id), meeting, siteIds, "pk1-00000000000000000000000000000000");
        return RegistrationOrchestrator.Apply(RegistrationState.Create(registrationId), new RegistrationStarted(registrationId + "/start", DateTimeOffset.UtcNow, plan));
    }

    public static string[] Ids(IEnumerable<OrchestrationCommand> commands) => [.. commands.Select(c => c.CommandId)];
}
