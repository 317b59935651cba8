using Azure.Core;

namespace ServerlessImaging.Dicom.Web.Authentication;

/// <summary>
/// How the client authenticates: a factory for the delegating handler placed in front of the network
/// handler. Anything else (API keys, mTLS headers, a proxy's cookie) plugs in through <see cref="Custom"/>.
/// </summary>
public abstract class DicomWebAuthentication
{
    /// <summary>No credentials: the local Orthanc.</summary>
    public static DicomWebAuthentication None { get; } = new NoAuthentication();

    /// <summary>Entra ID bearer tokens for the Azure DICOM service (or another scope).</summary>
    public static DicomWebAuthentication FromTokenCredential(TokenCredential credential, string scope = TokenCredentialHandler.AzureDicomScope) =>
        new TokenCredentialAuthentication(credential, scope);

    /// <summary>
    /// A fixed bearer token handed over by someone else (e.g. a short-lived, study-scoped read token the cloud gives a
    /// relay for one delivery): sent on every request, never refreshed.
    /// </summary>
    public static DicomWebAuthentication BearerToken(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        return new BearerTokenAuthentication(token);
    }

    /// <summary>Any delegating handler; a new one is created for each client.</summary>
    public static DicomWebAuthentication Custom(Func<DelegatingHandler> createHandler) => new CustomAuthentication(createHandler);

    /// <summary>The handler to insert, or null for none.</summary>
    public abstract DelegatingHandler? CreateHandler();

    private sealed class NoAuthentication : DicomWebAuthentication
    {
        public override DelegatingHandler? CreateHandler() => null;
    }

    private sealed class TokenCredentialAuthentication(TokenCredential credential, string scope) : DicomWebAuthentication
    {
        public override DelegatingHandler CreateHandler() => new TokenCredentialHandler(credential, scope);
    }

    private sealed class BearerTokenAuthentication(string token) : DicomWebAuthentication
    {
        public override DelegatingHandler CreateHandler() => new BearerTokenHandler(token);

        /// <summary>Redacted: the token is a secret.</summary>
        public override string ToString() => "BearerToken { redacted }";
    }

    private sealed class BearerTokenHandler(string token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class CustomAuthentication(Func<DelegatingHandler> createHandler) : DicomWebAuthentication
    {
        public override DelegatingHandler CreateHandler() => createHandler();
    }
}
