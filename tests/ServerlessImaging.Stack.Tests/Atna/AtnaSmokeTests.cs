using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Atna;

/// <summary>The ATNA collector stand-in (rsyslog over TLS), through plain SslStream: not the product's client.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AtnaSmokeTests(LocalStackFixture stack)
{
    [Fact]
    public async Task A_framed_message_over_TLS_validated_with_the_stacks_CA_is_written_as_one_line()
    {
        var ct = TestDeadline.Start();
        var atna = stack.Endpoints.RequireAtna();
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(atna.CaCertificatePath);
        var marker = Guid.NewGuid().ToString("n");
        var message = $"<86>1 2026-12-05T01:30:17.000000Z smoke-host stack-smoke {marker} IHE+RFC-3881 - \uFEFF<AuditMessage note=\"étude\"/>";
        var bytes = Encoding.UTF8.GetBytes(message);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(atna.Host, atna.Port, ct);
            await using var tls = new SslStream(tcp.GetStream());
            var chainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            chainPolicy.CustomTrustStore.AddRange(authorities);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = atna.Host,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateChainPolicy = chainPolicy,
                },
                ct);
            await tls.WriteAsync(Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + " "), ct);
            await tls.WriteAsync(bytes, ct);
            await tls.ShutdownAsync();
        }

        string? found = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (found is null && DateTime.UtcNow < deadline)
        {
            await using var stream = new FileStream(atna.ReceivedPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    found = line;
                }
            }

            if (found is null)
            {
                await Task.Delay(100, ct);
            }
        }

        Assert.Equal(message, found);
    }
}
