using System.Net;
using System.Net.Http.Headers;
using Azure.Core;

namespace ServerlessImaging.Dicom.Web.Authentication;

/// <summary>
/// Adds <c>Authorization: Bearer</c> from an Azure.Identity <see cref="TokenCredential"/> (managed identity,
/// workload identity, CLI...). The token is cached until shortly before it expires, and dropped on a 401
/// so that the next attempt fetches a fresh one.
/// </summary>
public sealed class TokenCredentialHandler : DelegatingHandler
{
    /// <summary>Scope of the Azure Health Data Services DICOM service.</summary>
    public const string AzureDicomScope = "https://dicom.healthcareapis.azure.com/.default";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly TokenCredential _credential;
    private readonly TokenRequestContext _context;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AccessToken? _cached;

    public TokenCredentialHandler(TokenCredential credential, string scope = AzureDicomScope, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        _credential = credential;
        _context = new TokenRequestContext([scope]);
        _time = timeProvider ?? TimeProvider.System;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var token = await GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            _cached = null;
        }
        return response;
    }

    internal async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } fresh && IsUsable(fresh))
        {
            return fresh.Token;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cached is { } again && IsUsable(again))
            {
                return again.Token;
            }
            var token = await _credential.GetTokenAsync(_context, cancellationToken).ConfigureAwait(false);
            _cached = token;
            return token.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool IsUsable(AccessToken token)
    {
        var now = _time.GetUtcNow();
        return token.ExpiresOn - RefreshMargin > now && (token.RefreshOn is not { } refreshOn || refreshOn > now);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.Dispose();
        }
        base.Dispose(disposing);
    }
}
