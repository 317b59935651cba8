using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Dicom.Networking.UpperLayer;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

/// <summary>DICOM over TLS (PS3.15 B.1 style): our SCU against our SCP and against dcmtk's storescp +tls, with a certificate made per test.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class TlsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-tls-").FullName;
    private readonly X509Certificate2 _certificate = CreateSelfSigned();

    public TlsTests(LocalStackFixture stack) => Peers.Bind(stack);

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on Linux.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Trusts exactly our test certificate (pinned by thumbprint), nothing else.</summary>
    private AssociationOptions ClientTls(bool pinned = true) => new()
    {
        TlsClient = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, cert, _, _) => pinned && cert is not null && cert.GetCertHashString() == _certificate.GetCertHashString(),
        },
    };

    [Fact]
    public async Task Our_store_scu_and_scp_exchange_an_instance_over_tls()
    {
        var received = Path.Combine(_work, "received");
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "TLS_SCP", Port = 0,
            Association = new AssociationOptions { TlsServer = new SslServerAuthenticationOptions { ServerCertificate = _certificate } },
        }, new DirectoryInstanceSink(received));
        var file = await TestInstances.WriteAsync(Path.Combine(_work, "src"), new TestPatient("TLS", "Test", "TLS1"), DicomUid.Generate(), DicomUid.Generate(), new DateOnly(2024, 2, 3), size: 200);
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "TLS_SCP", Association = ClientTls() });

        Assert.Equal(DimseStatus.Success, await client.EchoAsync());
        var result = Assert.Single(await client.StoreAsync([file]));

        Assert.True(result.Succeeded, result.Error);
        await DatasetAssert.SameContentAsync(file, Path.Combine(received, result.SopInstanceUid + ".dcm"));
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_fails_with_a_typed_error_and_the_scp_stores_nothing()
    {
        var received = Path.Combine(_work, "received");
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "TLS_SCP", Port = 0,
            Association = new AssociationOptions { TlsServer = new SslServerAuthenticationOptions { ServerCertificate = _certificate } },
        }, new DirectoryInstanceSink(received));
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "TLS_SCP", Association = ClientTls(pinned: false) });

        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => client.EchoAsync());
        Assert.Empty(Directory.GetFiles(received));
    }

    [Fact]
    public async Task A_plain_tcp_client_cannot_talk_to_a_tls_scp()
    {
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "TLS_SCP", Port = 0,
            Association = new AssociationOptions { TlsServer = new SslServerAuthenticationOptions { ServerCertificate = _certificate }, ArtimTimeout = TimeSpan.FromSeconds(5) },
        }, new DirectoryInstanceSink(Path.Combine(_work, "r")));
        var client = new DicomClient(new DicomClientOptions
        {
            Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "TLS_SCP",
            Association = new AssociationOptions { ArtimTimeout = TimeSpan.FromSeconds(5) },
        });

        await Assert.ThrowsAnyAsync<DicomNetworkException>(() => client.EchoAsync());
    }

    [Fact]
    public async Task Our_store_scu_over_tls_into_dcmtk_storescp()
    {
        var keyPem = Path.Combine(_work, "key.pem");
        var certPem = Path.Combine(_work, "cert.pem");
        using (var rsa = _certificate.GetRSAPrivateKey()!) await File.WriteAllTextAsync(keyPem, rsa.ExportRSAPrivateKeyPem());
        await File.WriteAllTextAsync(certPem, _certificate.ExportCertificatePem());
        var received = Directory.CreateDirectory(Path.Combine(_work, "storescp")).FullName;
        var port = ReencodingTests.FreePort();
        using var storescp = ReencodingTests.StartDcmtk("storescp",
            ["-aet", "TLS_STORESCP", "+tls", keyPem, certPem, "-pw", "-ic", "-uf", "-od", received, port.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            await ReencodingTests.WaitListeningAsync(port);
            var file = await TestInstances.WriteAsync(Path.Combine(_work, "src"), new TestPatient("TLS", "Test", "TLS2"), DicomUid.Generate(), DicomUid.Generate(), new DateOnly(2024, 2, 3), size: 200);
            var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "TLS_STORESCP", Association = ClientTls() });

            var result = Assert.Single(await client.StoreAsync([file]));

            Assert.True(result.Succeeded, $"0x{result.Status:X4} {result.Error}");
            await DatasetAssert.SameContentAsync(file, Assert.Single(Directory.GetFiles(received)));
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
        }
    }
}
