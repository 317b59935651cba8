using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.Cloud.Tests.Runtime;

/// <summary>The <c>Audit:Atna</c> settings (pure: configuration in, collector options or a refused start out).</summary>
public sealed class AtnaAuditExportSettingsTests
{
    [Fact]
    public void Without_a_host_there_is_no_export()
    {
        Assert.Null(AtnaAuditExport.CollectorFrom(Configuration(new() { ["Audit:Atna:Port"] = "6514" })));
    }

    [Fact]
    public void The_CA_comes_as_PEM_text_or_a_PEM_file_and_the_port_defaults_to_6514()
    {
        var (pem, thumbprint) = CaPem();
        var fromText = AtnaAuditExport.CollectorFrom(Configuration(new() { ["Audit:Atna:Host"] = "siem.example", ["Audit:Atna:CaCertificatePem"] = pem }))!;
        Assert.Equal("siem.example", fromText.Host);
        Assert.Equal(6514, fromText.Port);
        Assert.Equal(thumbprint, Assert.Single(fromText.TrustedCertificateAuthorities).Thumbprint);
        Assert.Null(fromText.TargetName);

        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, pem);
            var fromFile = AtnaAuditExport.CollectorFrom(Configuration(new() { ["Audit:Atna:Host"] = "10.0.0.5", ["Audit:Atna:Port"] = "16514", ["Audit:Atna:CaCertificatePath"] = file, ["Audit:Atna:TargetName"] = "siem.example" }))!;
            Assert.Equal(16514, fromFile.Port);
            Assert.Equal("siem.example", fromFile.TargetName);
            Assert.Equal(thumbprint, Assert.Single(fromFile.TrustedCertificateAuthorities).Thumbprint);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(null, null, "must give the collector's CA")] // never the machine's trust store
    [InlineData("not a pem", null, "must give the collector's CA")]
    [InlineData(null, "/nonexistent/ca.pem", "cannot be read")]
    public void A_host_without_a_usable_CA_stops_the_start(string? pem, string? path, string message)
    {
        var error = Assert.Throws<StartupRefusedException>(() => AtnaAuditExport.CollectorFrom(Configuration(new() { ["Audit:Atna:Host"] = "siem.example", ["Audit:Atna:CaCertificatePem"] = pem, ["Audit:Atna:CaCertificatePath"] = path })));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("syslog")]
    public void A_port_that_is_no_TCP_port_stops_the_start(string port)
    {
        var (pem, _) = CaPem();
        var error = Assert.Throws<StartupRefusedException>(() => AtnaAuditExport.CollectorFrom(Configuration(new() { ["Audit:Atna:Host"] = "siem.example", ["Audit:Atna:Port"] = port, ["Audit:Atna:CaCertificatePem"] = pem })));
        Assert.Contains(CloudAppSettings.AuditAtnaPort, error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static (string Pem, string Thumbprint) CaPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test ATNA CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (certificate.ExportCertificatePem(), certificate.Thumbprint);
    }
}
