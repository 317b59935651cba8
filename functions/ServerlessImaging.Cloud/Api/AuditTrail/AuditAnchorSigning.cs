using Azure.Core;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Cloud.Configuration;

namespace ServerlessImaging.Cloud.Api.AuditTrail;

/// <summary>
/// The key chain anchors are signed with: the Key Vault key <c>Audit__AnchorKeyId</c> (Azure, the app's managed identity
/// may only sign with it and read its public half), else in Development a local P-256 PEM key (<c>Audit__AnchorKeyPath</c>,
/// default <c>.local/audit/anchor-key.pem</c> of the repository, created at first use). Elsewhere none: exporting an
/// anchor answers 503.
/// </summary>
public sealed class AuditAnchorSigning
{
    private readonly Lazy<IAuditAnchorSigner>? signer;

    private AuditAnchorSigning(Func<IAuditAnchorSigner>? create) =>
        signer = create is null ? null : new Lazy<IAuditAnchorSigner>(create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The signer, or null when none is configured for this environment.</summary>
    public IAuditAnchorSigner? Signer => signer?.Value;

    /// <summary>Picks the signer from the settings.</summary>
    public static AuditAnchorSigning From(IConfiguration configuration, IHostEnvironment environment, Func<TokenCredential> credential)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        if (KeyVaultKeyUri(configuration) is { } keyUri)
        {
            return new AuditAnchorSigning(() => new KeyVaultAnchorSigner(keyUri, credential()));
        }

        if (!environment.IsDevelopment())
        {
            return new AuditAnchorSigning(null);
        }

        var path = configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuditAnchorKeyPath)] is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRootOr(environment.ContentRootPath), ".local", "audit", "anchor-key.pem");
        return new AuditAnchorSigning(() => LocalPemAnchorSigner.LoadOrCreate(path));
    }

    /// <summary>The Key Vault key URI of <c>Audit__AnchorKeyId</c>, null when unset.</summary>
    /// <exception cref="StartupRefusedException">The setting is not an https URI (checked when the API is composed).</exception>
    public static Uri? KeyVaultKeyUri(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[CloudAppSettings.ConfigurationKey(CloudAppSettings.AuditAnchorKeyId)] is not { Length: > 0 } keyId)
        {
            return null;
        }

        return Uri.TryCreate(keyId, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttps
            ? parsed
            : throw new StartupRefusedException($"{CloudAppSettings.AuditAnchorKeyId} must be the https URI of a Key Vault key.");
    }

    private static string RepositoryRootOr(string fallback)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ServerlessImaging.sln")))
            {
                return directory.FullName;
            }
        }

        return fallback;
    }
}
