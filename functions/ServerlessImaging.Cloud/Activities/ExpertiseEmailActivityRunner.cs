using System.Globalization;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>Renders the expertise e-mail of a registration (the API side may register a richer one).</summary>
public interface IExpertiseEmailComposer
{
    /// <summary>The message; its id must derive from the command id so the sender can deduplicate.</summary>
    EmailMessage Compose(SendExpertiseEmailActivity command, PatientIdentity patient);
}

/// <summary>Plain-text rendering used when no other composer is registered.</summary>
public sealed class PlainExpertiseEmailComposer : IExpertiseEmailComposer
{
    /// <inheritdoc />
    public EmailMessage Compose(SendExpertiseEmailActivity command, PatientIdentity patient)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(patient);
        var body = string.Create(CultureInfo.GetCultureInfo("fr-FR"), $"""
            Bonjour,

            Le Dr {command.RequesterName} sollicite votre expertise pour le dossier de {patient.FirstName} {patient.BirthName}, né(e) le {patient.BirthDate:dd/MM/yyyy}, présenté à la {command.MeetingTitle} du {command.MeetingStartsAt:dd/MM/yyyy HH:mm}.
            {command.AvailableStudies} examen(s) d'imagerie sont disponibles.
            """);
        return new EmailMessage(CommandIds.ExpertiseMessageId(command.CommandId), command.Recipients, "Demande d'expertise – " + command.MeetingTitle, body);
    }
}

/// <summary>
/// SendExpertiseEmail: the command carries no patient data, so the name is read from the registration itself. The
/// outcome goes back to the orchestration, which records it (sent after the relay accepted, or failed with a code);
/// the result event id derives from the command id, so a re-run after a crash records nothing twice.
/// </summary>
public sealed class ExpertiseEmailActivityRunner(IRegistrationViewStore views, IExpertiseEmailComposer composer, IEmailSender sender, TimeProvider time)
{
    /// <summary>Sends the e-mail (the sender deduplicates on the message id); <see cref="ExpertiseEmailSent"/> or <see cref="ExpertiseEmailFailed"/>.</summary>
    public async Task<OrchestrationEvent> RunAsync(SendExpertiseEmailActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var state = await views.LoadAsync(command.RegistrationId, cancellationToken);
        var patient = state?.Plan?.Registration.Patient ?? throw new InvalidOperationException("The registration of an expertise e-mail has no plan.");
        var message = composer.Compose(command, patient);
        var delivery = await sender.SendAsync(message, cancellationToken);
        if (delivery.Delivered)
        {
            return new ExpertiseEmailSent(command.CommandId + "/sent", time.GetUtcNow(), command.CommandId, message.MessageId);
        }

        var safeMessage = delivery.Outcome == EmailDeliveryOutcome.Unconfirmed
            ? "An earlier attempt did not confirm that the relay accepted the e-mail; it was not resent (check with the recipients)."
            : "The SMTP relay refused the e-mail for good.";
        return new ExpertiseEmailFailed(command.CommandId + "/failed", time.GetUtcNow(), command.CommandId, message.MessageId, delivery.ReasonCode ?? delivery.Outcome.ToString().ToLowerInvariant(), safeMessage);
    }
}
