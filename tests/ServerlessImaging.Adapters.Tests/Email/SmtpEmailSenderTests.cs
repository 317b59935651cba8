using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Adapters.Email;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Ports;
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

    private SmtpEmailSender Sender(Func<string, CancellationToken, Task>? afterAccepted = null, int? port = null, TimeProvider? time = null) =>
        new(
            new SmtpOptions { Host = stack.Endpoints.Mail.SmtpHost, Port = port ?? stack.Endpoints.Mail.SmtpPort, Security = SmtpSecurity.None, From = "3c@serverless-imaging.test", Signature = "3C de Chateauroux" },
            new CosmosSentEmailLedger(database.GetContainer("idempotency")),
            time ?? TimeProvider.System,
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
        Assert.Equal(EmailDeliveryOutcome.Sent, (await sender.SendAsync(message, CancellationToken.None)).Outcome);
        Assert.Equal(EmailDeliveryOutcome.AlreadySent, (await sender.SendAsync(message, CancellationToken.None)).Outcome);
        Assert.Equal(EmailDeliveryOutcome.AlreadySent, (await Sender().SendAsync(ExpertiseEmailComposer.Compose(command, patient, "3C de Chateauroux", Paris), CancellationToken.None)).Outcome);

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
        Assert.Equal(CommandIds.ExpertiseMessageId(command.CommandId), received.GetProperty("headers").GetProperty("message-id").GetString()!.Trim('<', '>'));
    }

    [Fact]
    public async Task A_crash_after_the_relay_accepted_is_never_resent_first_in_flight_then_unconfirmed_once_the_lease_ran_out()
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var (command, patient) = Request(unique);
        var message = ExpertiseEmailComposer.Compose(command, patient, "3C", Paris);

        var crashing = Sender((_, _) => throw new InvalidOperationException("simulated crash"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.SendAsync(message, CancellationToken.None));

        // Right after: the claim may belong to an attempt still talking to the relay, so "retry later".
        await Assert.ThrowsAsync<EmailSendInProgressException>(() => Sender().SendAsync(message, CancellationToken.None));

        // Past the lease, the claimant is taken for dead: reported unconfirmed, never sent again.
        var later = new ShiftedTime(new SmtpOptions().ClaimLease + TimeSpan.FromSeconds(1));
        var delivery = await Sender(time: later).SendAsync(message, CancellationToken.None);
        Assert.Equal(new EmailDelivery(EmailDeliveryOutcome.Unconfirmed, "delivery_unconfirmed"), delivery);
        Assert.Single(await MessagesWithSubjectAsync(unique));
    }

    [Fact]
    public async Task A_relay_that_cannot_be_reached_gives_the_claim_back_so_the_retry_sends_exactly_once()
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var (command, patient) = Request(unique);
        var message = ExpertiseEmailComposer.Compose(command, patient, "3C", Paris);

        using (var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            // A port that was just free: nothing listens there once the listener is stopped.
            closed.Start();
            var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
            closed.Stop();
            await Assert.ThrowsAnyAsync<Exception>(() => Sender(port: port).SendAsync(message, CancellationToken.None));
        }

        Assert.Empty(await MessagesWithSubjectAsync(unique));
        Assert.Equal(EmailDeliveryOutcome.Sent, (await Sender().SendAsync(message, CancellationToken.None)).Outcome);
        Assert.Single(await MessagesWithSubjectAsync(unique));
    }

    [Fact]
    public async Task A_permanent_refusal_by_the_relay_is_reported_with_its_smtp_code_and_not_retried()
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var (command, patient) = Request(unique);
        var message = ExpertiseEmailComposer.Compose(command, patient, "3C", Paris);

        // maildev accepts everything, so a relay refusing every recipient (550) is played by a few lines of SMTP.
        await using var refusing = RefusingSmtpRelay.Start();
        var delivery = await Sender(port: refusing.Port).SendAsync(message, CancellationToken.None);
        Assert.Equal(new EmailDelivery(EmailDeliveryOutcome.Rejected, "smtp_550"), delivery);
        Assert.False(delivery.Delivered);
        Assert.Contains(refusing.Commands, c => c.StartsWith("RCPT TO", StringComparison.OrdinalIgnoreCase));
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
        Assert.Equal(CommandIds.ExpertiseMessageId("reg-1/expertise"), CommandIds.ExpertiseMessageId("reg-1/expertise"));
        Assert.NotEqual(CommandIds.ExpertiseMessageId("reg-1/expertise"), CommandIds.ExpertiseMessageId("reg-2/expertise"));
    }
}

/// <summary>Now, shifted: a clock some time ahead of the real one.</summary>
internal sealed class ShiftedTime(TimeSpan shift) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
}

/// <summary>An SMTP relay on loopback that greets, then refuses every recipient with 550 (plain text, no extensions).</summary>
internal sealed class RefusingSmtpRelay : IAsyncDisposable
{
    private readonly System.Net.Sockets.TcpListener listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> commands = new();
    private Task loop = Task.CompletedTask;

    public int Port => ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

    public IReadOnlyCollection<string> Commands => commands;

    public static RefusingSmtpRelay Start()
    {
        var relay = new RefusingSmtpRelay();
        relay.listener.Start();
        relay.loop = relay.ServeAsync();
        return relay;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try
        {
            await loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }

        stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            await using var stream = client.GetStream();
            using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
            await using var writer = new StreamWriter(stream, System.Text.Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 refusing.test ESMTP");
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                commands.Enqueue(line);
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                await writer.WriteLineAsync(verb switch
                {
                    "RCPT" => "550 5.1.1 Recipient refused",
                    "QUIT" => "221 bye",
                    _ => "250 ok",
                });
                if (verb == "QUIT")
                {
                    break;
                }
            }
        }
    }
}
