using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>A throw-away CA and certificates it signs, for private collectors and for "untrusted" cases.</summary>
internal sealed class TestCertificateAuthority : IDisposable
{
    private readonly RSA key = RSA.Create(2048);

    public TestCertificateAuthority(string name)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection AsTrust() => [Certificate];

    /// <summary>A leaf for 127.0.0.1 and localhost, for a server or a client; returned with its key as PEM too (for rsyslog).</summary>
    public (X509Certificate2 Certificate, string CertificatePem, string KeyPem) Issue(string commonName, bool server)
    {
        using var leafKey = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddDays(-1), Certificate.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(16));
        var withKey = issued.CopyWithPrivateKey(leafKey);
        return (withKey, issued.ExportCertificatePem(), leafKey.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        Certificate.Dispose();
        key.Dispose();
    }
}
