using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Mail;

[Collection(LocalStackFixture.CollectionName)]
public sealed class MailSmokeTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Mail_sent_over_smtp_is_read_back_from_maildev_api()
    {
        var ct = TestDeadline.Start();
        var mail = stack.Endpoints.Mail;
        var subject = $"Demande d'expertise RCP {Guid.NewGuid():n}";
        using var message = new MimeMessage();
        message.From.Add(new MailboxAddress("ServerlessImaging", "rcp@serverless-imaging.test"));
        message.To.Add(new MailboxAddress("Radiologue de garde", "radiologue@chu-nord.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Études disponibles pour la réunion." };

        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync(mail.SmtpHost, mail.SmtpPort, SecureSocketOptions.None, ct);
            await smtp.SendAsync(message, ct);
            await smtp.DisconnectAsync(quit: true, ct);
        }

        using var http = new HttpClient { BaseAddress = mail.WebUrl };
        JsonElement? found = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (found is null && DateTime.UtcNow < deadline)
        {
            using var emails = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/email", UriKind.Relative), ct));
            found = emails.RootElement.EnumerateArray()
                .Where(e => e.GetProperty("subject").GetString() == subject)
                .Select(e => (JsonElement?)e.Clone())
                .FirstOrDefault();
            if (found is null)
            {
                await Task.Delay(100, ct);
            }
        }

        Assert.NotNull(found);
        Assert.Equal("radiologue@chu-nord.test", found.Value.GetProperty("to")[0].GetProperty("address").GetString());
        Assert.Contains("Études disponibles", found.Value.GetProperty("text").GetString(), StringComparison.Ordinal);
    }
}
