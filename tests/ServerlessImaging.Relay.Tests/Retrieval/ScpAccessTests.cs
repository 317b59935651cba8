using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Metrics;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Retrieval;

/// <summary>
/// Who gets into the relay's C-STORE SCP, tried with dcmtk's echoscu, raw sockets and the real PACS (Orthanc CHUNORD,
/// which sends its C-MOVE sub-operations from 127.0.0.1). Allowed peers still getting in is also shown by every Move
/// test of <see cref="RetrieveStudyTests"/> (default rule: the PACS host's addresses and AE title).
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ScpAccessTests(LocalStackFixture stack)
{
    /// <summary>The relay's counter of refused associations, tagged with the reason.</summary>
    private const string Refused = "relay.scp.refused";

    private string PacsAe => stack.Endpoints.Site("chu-nord").AeTitle;

    private static Task<DcmtkResult> EchoAsync(RelayUnderTest relay, string callingAe, params string[] tls) =>
        DcmtkRunner.RunAsync("echoscu",
            [.. tls, "-aet", callingAe, "-aec", relay.Settings["Relay:Scp:AeTitle"]!, "-to", "10", "-ta", "10", "127.0.0.1", relay.Settings["Relay:Scp:Port"]!],
            CancellationToken.None, timeout: TimeSpan.FromSeconds(30));

    private static int Port(RelayUnderTest relay) => int.Parse(relay.Settings["Relay:Scp:Port"]!, CultureInfo.InvariantCulture);

    private static string Output(DcmtkResult result) => result.StandardOutput + result.StandardError;

    [Fact]
    public async Task An_association_from_another_calling_AE_is_rejected_permanently_and_counted_while_the_PACS_AE_gets_in()
    {
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        await relay.StartAsync();

        var intruder = await EchoAsync(relay, "INTRUDER");
        var pacs = await EchoAsync(relay, PacsAe);

        Assert.Contains("Rejected Permanent", Output(intruder), StringComparison.Ordinal);
        Assert.Contains("Calling AE Title Not Recognized", Output(intruder), StringComparison.Ordinal);
        Assert.True(pacs.Succeeded, Output(pacs));
        Assert.Equal(1, await counters.WaitForAsync(Refused, "reason", "calling_ae", 1));
        Assert.Equal(0, counters[Refused, "reason", "peer_address"]);
    }

    [Fact]
    public async Task A_connection_from_an_address_not_allowed_is_closed_unread_and_the_PACS_there_cannot_deliver_a_move()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 2);
        using var counters = new MeterTotals(RelayMetrics.MeterName);
        // Everything here connects from 127.0.0.1, the PACS included; only 127.0.0.2 is allowed.
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s => s["Relay:Scp:AllowedPeerAddresses:0"] = "127.0.0.2");
        await relay.StartAsync();

        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await raw.ConnectAsync(IPAddress.Loopback, Port(relay));
            // Nothing sent: the relay closes at once instead of waiting (30 s ARTIM) for an A-ASSOCIATE-RQ it would parse.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal(0, await raw.ReceiveAsync(new byte[1], deadline.Token));
        }

        var echo = await EchoAsync(relay, PacsAe);
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-scp/s"));
        await relay.SendAsync(command);
        var failed = await relay.AnswerAsync<CommandFailed>(command);

        Assert.False(echo.Succeeded);
        Assert.DoesNotContain("Association Accepted", Output(echo), StringComparison.Ordinal);
        Assert.Equal(FailureReason.PacsRejected, failed.Reason);
        Assert.Empty(await relay.StagedAsync("reg-scp/s"));
        Assert.True(await counters.WaitForAsync(Refused, "reason", "peer_address", 3) >= 3, "the raw connection, echoscu and the PACS's sub-operations are counted");
        Assert.Equal(0, counters[Refused, "reason", "calling_ae"]);
    }

    [Fact]
    public async Task A_peer_in_an_allowed_range_gets_in_and_only_the_bind_address_listens()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s => s["Relay:Scp:AllowedPeerAddresses:0"] = "127.0.0.0/30");
        await relay.StartAsync();

        var echo = await EchoAsync(relay, PacsAe);
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await other.ConnectAsync(IPAddress.Parse("127.0.0.2"), Port(relay)));

        Assert.True(echo.Succeeded, Output(echo));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode); // bound to 127.0.0.1, not every address
    }

    [Fact]
    public async Task With_a_certificate_the_scp_speaks_DICOM_TLS_and_refuses_plain_associations()
    {
        var directory = Directory.CreateTempSubdirectory("si-relay-scp-tls-").FullName;
        try
        {
            var (certificate, key) = WriteSelfSignedPem(directory);
            await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s =>
            {
                s["Relay:Scp:Tls:CertificatePath"] = certificate;
                s["Relay:Scp:Tls:KeyPath"] = key;
            });
            await relay.StartAsync();

            // +tla: TLS without a client certificate; +cf: trust exactly the relay's certificate.
            var overTls = await EchoAsync(relay, PacsAe, "+tla", "+cf", certificate);
            var plain = await EchoAsync(relay, PacsAe);

            Assert.True(overTls.Succeeded, Output(overTls));
            Assert.False(plain.Succeeded);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_PACS_host_that_does_not_resolve_stops_the_relay_at_start_instead_of_accepting_anyone()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s => s["Relay:Pacs:Host"] = "no-such-pacs.invalid");

        var ex = await Assert.ThrowsAsync<RelayConfigurationException>(relay.StartAsync);

        Assert.Contains("Relay:Pacs:Host", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Relay:Scp:AllowedPeerAddresses", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_mode_prints_who_the_scp_will_accept()
    {
        var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        using var output = new StringWriter();

        var exit = await Hosting.ConfigurationCheck.RunAsync(["--check"], output, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, relay.Settings));

        Assert.Equal(0, exit);
        Assert.Contains($"accepting AE {PacsAe} from 127.0.0.1/32 (Relay:Pacs:Host)", output.ToString(), StringComparison.Ordinal);
    }

    private static (string Certificate, string Key) WriteSelfSignedPem(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=si-relay-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificatePath = Path.Combine(directory, "scp-cert.pem");
        var keyPath = Path.Combine(directory, "scp-key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
