using System.Net.Security;

namespace ServerlessImaging.Testing.Http;

/// <summary>
/// The Cosmos DB stand-in serves HTTPS with an expired self-signed certificate. Tests
/// accept it for loopback endpoints only; anything else still gets normal validation.
/// </summary>
public static class LocalCertificates
{
    public static HttpMessageHandler CreateHandlerTrustingLoopback() => new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                errors == SslPolicyErrors.None || IsLoopbackTarget(sender),
        },
    };

    private static bool IsLoopbackTarget(object sender) =>
        sender is SslStream { TargetHostName: var host } &&
        (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
         (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address)));
}
