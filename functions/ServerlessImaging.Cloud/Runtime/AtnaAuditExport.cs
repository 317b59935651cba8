using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Audit.Atna;
using ServerlessImaging.Adapters.Audit.Syslog;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Orchestration.Audit.Atna;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>
/// The export of the audit trail to the ATNA collector configured in <c>Audit:Atna</c> (<see cref="AtnaExporter"/>),
/// run periodically by each host: a timer trigger in the Functions app, a hosted loop in the standalone host. Without
/// <c>Audit:Atna:Host</c> there is no export and a pass does nothing.
/// </summary>
public sealed class AtnaAuditExport(AtnaExporter? exporter)
{
    /// <summary>A collector is configured.</summary>
    public bool Enabled => exporter is not null;

    /// <summary>One export pass (<see cref="AtnaExporter.RunOnceAsync"/>); idle when disabled.</summary>
    public Task<AtnaExportPass> RunOnceAsync(CancellationToken cancellationToken) =>
        exporter?.RunOnceAsync(cancellationToken) ?? Task.FromResult(new AtnaExportPass(AtnaExportOutcome.Idle, 0, 0, 0));

    /// <summary>
    /// The collector's settings, or null when <c>Audit:Atna:Host</c> is not set. The CA is a PEM file
    /// (<c>CaCertificatePath</c>) or PEM text (<c>CaCertificatePem</c>, e.g. a Key Vault reference); a client certificate
    /// is optional (<c>ClientCertificatePath</c> + <c>ClientKeyPath</c>, PEM).
    /// </summary>
    /// <exception cref="StartupRefusedException">Host is set but the rest is missing or unreadable.</exception>
    public static SyslogTlsOptions? CollectorFrom(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Audit:Atna");
        if (section["Host"] is not { Length: > 0 } host)
        {
            return null;
        }

        var port = 6514;
        if (section["Port"] is { Length: > 0 } portText && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new StartupRefusedException($"{CloudAppSettings.AuditAtnaPort} must be a TCP port.");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            if (section["CaCertificatePem"] is { Length: > 0 } pem)
            {
                authorities.ImportFromPem(pem);
            }
            else if (section["CaCertificatePath"] is { Length: > 0 } path)
            {
                authorities.ImportFromPemFile(path);
            }
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StartupRefusedException($"The ATNA collector's CA certificate cannot be read ({ex.GetType().Name}).", ex);
        }

        if (authorities.Count == 0)
        {
            // Never the machine's trust store: any public certificate for that name would do then.
            throw new StartupRefusedException($"{CloudAppSettings.AuditAtnaHost} is set: {CloudAppSettings.AuditAtnaCaCertificatePem} or {CloudAppSettings.AuditAtnaCaCertificatePath} must give the collector's CA.");
        }

        X509Certificate2? client = null;
        if (section["ClientCertificatePath"] is { Length: > 0 } certificatePath)
        {
            try
            {
                client = X509Certificate2.CreateFromPemFile(certificatePath, section["ClientKeyPath"] is { Length: > 0 } keyPath ? keyPath : null);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new StartupRefusedException($"The ATNA client certificate cannot be read ({ex.GetType().Name}).", ex);
            }
        }

        return new SyslogTlsOptions
        {
            Host = host,
            Port = port,
            TrustedCertificateAuthorities = authorities,
            TargetName = section["TargetName"] is { Length: > 0 } targetName ? targetName : null,
            ClientCertificate = client,
        };
    }
}

/// <summary>Composition of the ATNA export.</summary>
public static class AtnaAuditExportServices
{
    /// <summary>
    /// Registers <see cref="AtnaAuditExport"/>: with a collector configured, the exporter over the audit trail (registered by
    /// <c>AddHttpApi</c>), its cursor in the <c>idempotency</c> container and a syslog/TLS client; otherwise a disabled one.
    /// Settings are read now, so a broken collector configuration stops the start.
    /// </summary>
    public static IServiceCollection AddAtnaAuditExport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var collector = AtnaAuditExport.CollectorFrom(configuration);
        if (collector is null)
        {
            services.AddSingleton(new AtnaAuditExport(null));
            return services;
        }

        var settings = new AuditMessageSettings(configuration["Audit:Atna:EnterpriseSiteId"] is { Length: > 0 } site ? site : null);
        services.AddSingleton(sp => new SyslogTlsClient(collector, sp.GetRequiredService<ILogger<SyslogTlsClient>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var cosmos = sp.GetRequiredService<CosmosClient>().GetContainer(sp.GetRequiredService<CosmosOptions>().DatabaseName, "idempotency");
            var exporter = new AtnaExporter(
                sp.GetRequiredService<CosmosAuditTrail>(),
                new AtnaExportCursor(cosmos, sp.GetRequiredService<TimeProvider>()),
                sp.GetRequiredService<SyslogTlsClient>(),
                new AtnaExportOptions { Collector = collector, MessageSettings = settings },
                sp.GetRequiredService<ILogger<AtnaExporter>>(),
                sp.GetRequiredService<TimeProvider>());
            return new AtnaAuditExport(exporter);
        });
        return services;
    }
}
