using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Adapters.Email;

/// <summary>
/// Renders the expertise request of the Proxymage user guide (section 6) in French. Patient data is kept to
/// what the guide's template shows: civility, usage (or birth) name and first name — no birth date, no INS.
/// The Message-Id derives from the command id, so every retry of one request produces the same message.
/// </summary>
public static class ExpertiseEmailComposer
{
    /// <summary>Where clinicians without access register to the DCC (named in the guide).</summary>
    public const string DccRegistrationHint = "Formulaire d'inscription au Dossier Communicant en Cancérologie (DCC) (esante-centre.fr)";

    private static readonly CultureInfo French = CultureInfo.GetCultureInfo("fr-FR");

    /// <summary>Builds the e-mail; one message to every recipient, each greeted in the salutation.</summary>
    public static EmailMessage Compose(SendExpertiseEmailActivity command, PatientIdentity patient, string signature, TimeZoneInfo meetingTimeZone)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(meetingTimeZone);
        if (command.Recipients.IsDefaultOrEmpty)
        {
            throw new ArgumentException("An expertise request needs at least one recipient.", nameof(command));
        }

        var civility = patient.Sex switch
        {
            PatientSex.Female => "Mme",
            PatientSex.Male => "M.",
            _ => "Mme/M.",
        };
        var name = $"{(patient.UsageName ?? patient.BirthName).ToUpperInvariant()} {patient.FirstName}";
        var meetingDate = TimeZoneInfo.ConvertTime(command.MeetingStartsAt, meetingTimeZone).ToString("dd/MM/yyyy", French);
        var body = new StringBuilder();
        body.Append(string.Join(", ", command.Recipients.Select(r => "Dr " + r.Name))).Append(",\n\n");
        body.Append(CultureInfo.InvariantCulture, $"Le dossier de {civility} {name}, a été inscrit par {command.RequesterName} (médecin demandeur) en réunion de concertation pluridisciplinaire en cancérologie : {command.MeetingTitle}, le {meetingDate}. ");
        body.Append("Des examens sont disponibles dans le DCC (Dossier Communicant de Cancérologie) pour expertise par vos soins.\n\n");
        body.Append("Si vous n'avez pas d'accès au DCC, rendez-vous sur ").Append(DccRegistrationHint).Append("\n\n");
        body.Append("Cordialement,\n\n").Append(signature).Append('\n');
        var subject = $"Demande d'expertise : {command.MeetingTitle} du {meetingDate}";
        return new EmailMessage(CommandIds.ExpertiseMessageId(command.CommandId), command.Recipients, subject, body.ToString());
    }
}
