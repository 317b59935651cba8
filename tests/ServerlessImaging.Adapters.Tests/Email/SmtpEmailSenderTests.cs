using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Email;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Email;

[Collection(LocalStackFixture.CollectionName)]
public sealed class SmtpEmailSenderTests(LocalStackFixture stack) : IAsyncLifetime, IDisposable
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private readonly HttpClient maildev = new() { BaseAddress = stack.Endpoints.Mail.WebUrl, Timeout = TimeSpan.FromSeconds(10) };
    private CosmosClient? client;
    private Database database = null!;

    public async Task InitializeAsync() => (client, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "email");

    public void Dispose() => maildev.Dispose();

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await database.DeleteAsync();
            client.Dispose();
        }
    }

    private SmtpEmailSender Sender(Func<string, CancellationToken, Task>? afterAccepted = null) =>
        new(
            new SmtpOptions { Host = stack.Endpoints.Mail.SmtpHost, Port = stack.Endpoints.Mail.SmtpPort, Security = SmtpSecurity.None, From = "3c@serverless-imaging.test", Signature = "3C de Chateauroux" },
            new CosmosSentEmailLedger(database.GetContainer("idempotency")),
            new CosmosAuditTrail(database.GetContainer("audit"), "test"),
            TimeProvider.System,
            NullLogger<SmtpEmailSender>.Instance)
        {
            AfterRelayAcceptedAsync = afterAccepted ?? ((_, _) => Task.CompletedTask),
        };

    private static (SendExpertiseEmailActivity Command, PatientIdentity Patient) Request(string unique) => (
        new SendExpertiseEmailActivity(
            $"reg-{unique}/expertise",
            $"reg-{unique}",
            "m1",
            $"RCP gynéco-sénologie {unique}",
            new DateTimeOffset(2030, 5, 2, 12, 0, 0, TimeSpan.Zero),
            [new Physician("Durand Radiologue", "radio@example.org"), new Physician("Martin Nucléaire", "nucleaire@example.org")],
            "Dr Demandeur",
            2),
        new PatientIdentity("LEFEVRE", "MARTIN", "Hélène", new DateOnly(1961, 4, 2), PatientSex.Female, null));

    private async Task<List<JsonElement>> MessagesWithSubjectAsync(string subjectPart)
    {
        var all = await maildev.GetFromJsonAsync<List<JsonElement>>("api/email");
        return [.. all!.Where(m => m.GetProperty("subject").GetString()!.Contains(subjectPart, StringComparison.Ordinal))];
    }

    [Fact]
    public async Task The_user_guide_text_reaches_both_physicians_exactly_once_even_when_retried()
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var (command, patient) = Request(unique);
        var message = ExpertiseEmailComposer.Compose(command, patient, "3C de Chateauroux", Paris);

        var sender = Sender();
        Assert.Equal(EmailSendOutcome.Sent, await sender.SendWithOutcomeAsync(message, CancellationToken.None));
        Assert.Equal(EmailSendOutcome.AlreadySent, await sender.SendWithOutcomeAsync(message, CancellationToken.None));
        Assert.Equal(EmailSendOutcome.AlreadySent, await Sender().SendWithOutcomeAsync(ExpertiseEmailComposer.Compose(command, patient, "3C de Chateauroux", Paris), CancellationToken.None));

        var received = Assert.Single(await MessagesWithSubjectAsync(unique));
        var text = received.GetProperty("text").GetString()!;
        Assert.Contains("Dr Durand Radiologue, Dr Martin Nucléaire,", text, StringComparison.Ordinal);
        Assert.Contains("Le dossier de Mme MARTIN Hélène, a été inscrit par Dr Demandeur (médecin demandeur) en réunion de concertation pluridisciplinaire en cancérologie", text, StringComparison.Ordinal);
        Assert.Contains("le 02/05/2030", text, StringComparison.Ordinal);
        Assert.Contains("Des examens sont disponibles dans le DCC", text, StringComparison.Ordinal);
        Assert.Contains("3C de Chateauroux", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1961", text, StringComparison.Ordinal);
        var to = received.GetProperty("to").EnumerateArray().Select(a => a.GetProperty("address").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["nucleaire@example.org", "radio@example.org"], to);
        Assert.Equal(ExpertiseEmailComposer.MessageIdFor(command.CommandId), received.GetProperty("headers").GetProperty("message-id").GetString()!.Trim('<', '>'));
    }

    [Fact]
    public async Task A_crash_after_the_relay_accepted_does_not_resend_on_rerun_and_is_audited_as_uncertain()
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var (command, patient) = Request(unique);
        var message = ExpertiseEmailComposer.Compose(command, patient, "3C", Paris);

        var crashing = Sender((_, _) => throw new InvalidOperationException("simulated crash"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.SendWithOutcomeAsync(message, CancellationToken.None));

        Assert.Equal(EmailSendOutcome.Uncertain, await Sender().SendWithOutcomeAsync(message, CancellationToken.None));
        Assert.Single(await MessagesWithSubjectAsync(unique));

        var audit = await new CosmosAuditTrail(database.GetContainer("audit"), "test").QueryAsync(new AuditQuery(), CancellationToken.None);
        Assert.Contains(audit.Records, r => r.EventType == "EmailSent" && r.Outcome == AuditOutcomeCodes.SeriousFailure && r.ParticipantObjects.Any(o => o.Id == message.MessageId));
    }

    [Fact]
    public void Plain_smtp_is_refused_outside_development()
    {
        var options = new SmtpOptions { Host = "smtp.example.org", Port = 25, Security = SmtpSecurity.None, From = "3c@example.org" };
        Assert.Contains(options.Validate(isDevelopment: false), p => p.Contains("Smtp__Security=None", StringComparison.Ordinal));
        Assert.Empty(options.Validate(isDevelopment: true));
        options.Security = SmtpSecurity.StartTls;
        Assert.Empty(options.Validate(isDevelopment: false));
    }

    [Fact]
    public void The_message_id_is_the_same_for_every_retry_of_one_command_and_differs_between_commands()
    {
        Assert.Equal(ExpertiseEmailComposer.MessageIdFor("reg-1/expertise"), ExpertiseEmailComposer.MessageIdFor("reg-1/expertise"));
        Assert.NotEqual(ExpertiseEmailComposer.MessageIdFor("reg-1/expertise"), ExpertiseEmailComposer.MessageIdFor("reg-2/expertise"));
    }
}
