using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessImaging.DevToken;

/// <summary>
/// Issues RS256 JWTs with the local stack's development key (a private JWK written by <c>tools/stack up</c>).
/// Hand-written (about forty lines) so the tool needs no token library: header and payload are base64url JSON,
/// the signature is RSASSA-PKCS1-v1_5 over SHA-256 (RFC 7518 §3.3).
/// </summary>
public sealed class DevTokenIssuer : IDisposable
{
    private readonly RSA rsa;
    private readonly string keyId;

    /// <summary>Loads the private JWK.</summary>
    public DevTokenIssuer(string privateJwkJson, string issuer, string audience)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateJwkJson);
        Issuer = issuer;
        Audience = audience;
        var jwk = JsonNode.Parse(privateJwkJson)!.AsObject();
        byte[] Part(string name) => Base64UrlDecode((string?)jwk[name] ?? throw new InvalidDataException($"The signing key has no '{name}'."));
        rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = Part("n"),
            Exponent = Part("e"),
            D = Part("d"),
            P = Part("p"),
            Q = Part("q"),
            DP = Part("dp"),
            DQ = Part("dq"),
            InverseQ = Part("qi"),
        });
        keyId = (string?)jwk["kid"] ?? string.Empty;
    }

    /// <summary>Issuer (<c>iss</c>).</summary>
    public string Issuer { get; }

    /// <summary>Audience (<c>aud</c>).</summary>
    public string Audience { get; }

    /// <summary>Loads the issuer from the local stack's stack.json.</summary>
    public static DevTokenIssuer FromStackJson(string stackJsonPath)
    {
        var auth = JsonNode.Parse(File.ReadAllText(stackJsonPath))?["auth"] ?? throw new InvalidDataException("stack.json has no 'auth' section: run tools/stack up.");
        return new DevTokenIssuer(
            File.ReadAllText((string)auth["signingKeyPath"]!),
            (string)auth["issuer"]!,
            (string)auth["audience"]!);
    }

    /// <summary>A signed token.</summary>
    /// <param name="subject">The <c>sub</c> claim.</param>
    /// <param name="roles">App roles (<c>roles</c> claim).</param>
    /// <param name="lifetime">Validity from now (negative: already expired).</param>
    /// <param name="audience">Override of the audience (to test a wrong one).</param>
    /// <param name="now">Issue time (default: now).</param>
    public string Issue(string subject, IEnumerable<string> roles, TimeSpan lifetime, string? audience = null, DateTimeOffset? now = null)
    {
        var issuedAt = now ?? DateTimeOffset.UtcNow;
        var notBefore = lifetime < TimeSpan.Zero ? issuedAt + lifetime - TimeSpan.FromMinutes(5) : issuedAt;
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = keyId };
        var payload = new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = audience ?? Audience,
            ["sub"] = subject,
            ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)JsonValue.Create(r))]),
            ["iat"] = notBefore.ToUnixTimeSeconds(),
            ["nbf"] = notBefore.ToUnixTimeSeconds(),
            ["exp"] = (issuedAt + lifetime).ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        var signingInput = Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncode(signature);
    }

    /// <inheritdoc />
    public void Dispose() => rsa.Dispose();

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }
}
