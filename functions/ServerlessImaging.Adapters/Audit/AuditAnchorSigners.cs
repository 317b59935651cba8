using System.Security.Cryptography;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using ServerlessImaging.Orchestration.Audit.Integrity;

namespace ServerlessImaging.Adapters.Audit;

/// <summary>Signs chain anchors with a P-256 key that the database's users cannot reach.</summary>
public interface IAuditAnchorSigner
{
    /// <summary>Which key signs (a Key Vault key URI, or <c>local:…</c>).</summary>
    string KeyId { get; }

    /// <summary>ES256 signature (r‖s, 64 bytes) of a SHA-256 digest.</summary>
    Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken);

    /// <summary>The public key (SubjectPublicKeyInfo, DER) an auditor verifies anchors with.</summary>
    Task<byte[]> PublicKeyAsync(CancellationToken cancellationToken);
}

/// <summary>Issues signed anchors of the chain's current head.</summary>
public static class AuditAnchorIssuer
{
    /// <summary>Signs the current head of <paramref name="chain"/>; null when nothing was sealed yet.</summary>
    public static async Task<AuditChainAnchor?> IssueAsync(CosmosAuditChain chain, IAuditAnchorSigner signer, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(time);
        if (await chain.ReadHeadAsync(cancellationToken).ConfigureAwait(false) is not { } head)
        {
            return null;
        }

        var signature = await signer.SignDigestAsync(AuditAnchors.DigestToSign(head.Head, signer.KeyId), cancellationToken).ConfigureAwait(false);
        return new AuditChainAnchor(head.Head, signer.KeyId, AuditAnchors.Es256, Convert.ToBase64String(signature), time.GetUtcNow());
    }
}

/// <summary>
/// Development only: a P-256 key in a PKCS#8 PEM file under <c>.local/</c> (never committed), created at first use
/// with owner-only permissions.
/// </summary>
public sealed class LocalPemAnchorSigner : IAuditAnchorSigner, IDisposable
{
    private readonly ECDsa key;

    private LocalPemAnchorSigner(ECDsa key)
    {
        this.key = key;
        KeyId = AuditAnchors.LocalKeyId(key.ExportSubjectPublicKeyInfo());
    }

    /// <inheritdoc />
    public string KeyId { get; }

    /// <summary>Loads the key at <paramref name="path"/>, creating it when the file does not exist.</summary>
    public static LocalPemAnchorSigner LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var key = ECDsa.Create();
        try
        {
            if (File.Exists(path))
            {
                key.ImportFromPem(File.ReadAllText(path));
            }
            else
            {
                key.GenerateKey(ECCurve.NamedCurves.nistP256);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var file = new StreamWriter(path, System.Text.Encoding.ASCII, options);
                file.Write(key.ExportPkcs8PrivateKeyPem());
            }

            return new LocalPemAnchorSigner(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken) =>
        Task.FromResult(key.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    /// <inheritdoc />
    public Task<byte[]> PublicKeyAsync(CancellationToken cancellationToken) => Task.FromResult(key.ExportSubjectPublicKeyInfo());

    /// <inheritdoc />
    public void Dispose() => key.Dispose();
}

/// <summary>
/// Azure: an EC P-256 key in Key Vault, used through the Key Vault REST API (<c>sign</c> and <c>get key</c>, API version
/// 7.4) with the app's managed identity. Written against Azure.Core's pipeline because the Key Vault keys client library is
/// not served by this environment's package registry; the private key never leaves the vault (the identity needs only
/// the sign and read-key data actions).
/// </summary>
public sealed class KeyVaultAnchorSigner(Uri keyId, TokenCredential credential) : IAuditAnchorSigner
{
    private const string ApiVersion = "7.4";
    private readonly HttpPipeline pipeline = HttpPipelineBuilder.Build(new KeyVaultPipelineOptions(), new BearerTokenAuthenticationPolicy(credential, "https://vault.azure.net/.default"));

    /// <inheritdoc />
    public string KeyId { get; } = keyId?.ToString() ?? throw new ArgumentNullException(nameof(keyId));

    /// <inheritdoc />
    public async Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = AuditAnchors.Es256, ["value"] = Base64Url(digest) });
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri($"{KeyId.TrimEnd('/')}/sign?api-version={ApiVersion}"));
        message.Request.Headers.Add("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(body);
        using var json = await SendAsync(message, "sign", cancellationToken).ConfigureAwait(false);
        return FromBase64Url(json.RootElement.GetProperty("value").GetString()!);
    }

    /// <inheritdoc />
    public async Task<byte[]> PublicKeyAsync(CancellationToken cancellationToken)
    {
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(new Uri($"{KeyId.TrimEnd('/')}?api-version={ApiVersion}"));
        using var json = await SendAsync(message, "get key", cancellationToken).ConfigureAwait(false);
        var jwk = json.RootElement.GetProperty("key");
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = FromBase64Url(jwk.GetProperty("x").GetString()!), Y = FromBase64Url(jwk.GetProperty("y").GetString()!) },
        });
        return key.ExportSubjectPublicKeyInfo();
    }

    private async Task<JsonDocument> SendAsync(HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (message.Response.IsError)
        {
            throw new InvalidOperationException($"Key Vault {operation} failed with {message.Response.Status}.");
        }

        return await JsonDocument.ParseAsync(message.Response.ContentStream!, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string Base64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string value)
    {
        var base64 = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    private sealed class KeyVaultPipelineOptions : ClientOptions
    {
    }
}
