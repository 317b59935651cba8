using ServerlessImaging.Adapters.Email;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Api.Expertise;

/// <summary>
/// The runtime's composer port implemented with the user guide's French text (<see cref="ExpertiseEmailComposer"/>):
/// dates in the meetings' time zone (Europe/Paris), signed with the 3C's name (<c>Smtp__Signature</c>).
/// </summary>
public sealed class UserGuideExpertiseEmailComposer(SmtpOptions smtp) : IExpertiseEmailComposer
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    /// <inheritdoc />
    public EmailMessage Compose(SendExpertiseEmailActivity command, PatientIdentity patient) =>
        ExpertiseEmailComposer.Compose(command, patient, smtp.Signature, Paris);
}
