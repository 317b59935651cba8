using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.Tokens;

namespace ServerlessImaging.Cloud.Api.Delivery;

/// <summary>What a delivery token lets its bearer do: read one study, for one site's delivery command, until it expires.</summary>
/// <param name="CommandId">The DeliverStudy command the token was issued for.</param>
/// <param name="SiteId">The site whose relay carries it out.</param>
/// <param name="StudyInstanceUid">The only study it reads.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
public sealed record DeliverySourceGrant(
    [property: JsonPropertyName("cmd")] string CommandId,
    [property: JsonPropertyName("site")] string SiteId,
    [property: JsonPropertyName("study")] string StudyInstanceUid,
    [property: JsonPropertyName("exp")] DateTimeOffset ExpiresAt);

/// <summary>
/// Issues and checks delivery tokens: <c>base64url(grant JSON) "." base64url(HMAC-SHA256(key, grant JSON))</c>. Written by
/// hand because what they carry (one study, one command) is ours, and the key never leaves the app: a JWT library would
/// add nothing the check needs. A token names no patient; it is a bearer secret, never logged.
/// </summary>
public sealed class DeliverySourceTokens
{
    /// <summary>Shortest key accepted (256 bits).</summary>
    public const int MinKeyBytes = 32;

    private readonly byte[] key;

    /// <summary>Creates the issuer/checker with <paramref name="key"/> (at least <see cref="MinKeyBytes"/> bytes).</summary>
    public DeliverySourceTokens(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"The delivery token key must have at least {MinKeyBytes} bytes.", nameof(key));
        }

        this.key = (byte[])key.Clone();
    }

    /// <summary>A token for <paramref name="grant"/>.</summary>
    public string Issue(DeliverySourceGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var payload = JsonSerializer.SerializeToUtf8Bytes(grant);
        return Base64UrlEncoder.Encode(payload) + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(key, payload));
    }

    /// <summary>The grant of a genuine token not expired at <paramref name="now"/>, or null (malformed, forged, altered or expired).</summary>
    public DeliverySourceGrant? Check(string? token, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 4096 || token.Split('.') is not [var body, var signature])
        {
            return null;
        }

        byte[] payload, mac;
        try
        {
            payload = Base64UrlEncoder.DecodeBytes(body);
            mac = Base64UrlEncoder.DecodeBytes(signature);
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key, payload)))
        {
            return null;
        }

        try
        {
            var grant = JsonSerializer.Deserialize<DeliverySourceGrant>(payload);
            return grant is not null && grant.ExpiresAt > now && !string.IsNullOrEmpty(grant.StudyInstanceUid) ? grant : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The tokens keyed by <c>Delivery__SourceTokenSecret</c> (base64); without it, a public development key in
    /// Development only (<c>CloudStartupCheck</c> requires the setting elsewhere).
    /// </summary>
    public static DeliverySourceTokens FromConfiguration(IConfiguration configuration, bool development)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[Configuration.CloudAppSettings.ConfigurationKey(Configuration.CloudAppSettings.DeliverySourceTokenSecret)];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new DeliverySourceTokens(Convert.FromBase64String(configured));
        }

        return development
            ? new DeliverySourceTokens(SHA256.HashData(Encoding.UTF8.GetBytes("serverless-imaging-development-delivery-token-key")))
            : throw new InvalidOperationException(Configuration.CloudAppSettings.DeliverySourceTokenSecret + " is required outside Development.");
    }

    /// <summary>
    /// The delivery source's base URL relays read from: <c>Delivery__SourceBaseUrl</c> + <c>delivery-source/</c>; in
    /// Development without it, the host's own first listening URL (<c>urls</c>), loopback for a wildcard.
    /// </summary>
    public static Uri SourceBaseUrl(IConfiguration configuration, bool development)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[Configuration.CloudAppSettings.ConfigurationKey(Configuration.CloudAppSettings.DeliverySourceBaseUrl)];
        if (string.IsNullOrWhiteSpace(configured) && development)
        {
            configured = (configuration["urls"] ?? "http://127.0.0.1:5000").Split(';')[0]
                .Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal);
        }

        if (!Uri.TryCreate(configured, UriKind.Absolute, out var baseUrl))
        {
            throw new InvalidOperationException(Configuration.CloudAppSettings.DeliverySourceBaseUrl + " is required outside Development and must be an absolute URL.");
        }

        return new Uri(new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/"), DeliverySourceEndpoints.Prefix + "/");
    }
}
