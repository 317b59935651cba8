using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ServerlessImaging.Cloud.Api.Delivery;

/// <summary>
/// The delivery source's own authentication: a relay presents the delivery token its DeliverStudy command carried
/// (<c>Authorization: Bearer</c>). The principal is the site's relay, with the one study it may read; no API role.
/// </summary>
public sealed class DeliverySourceAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DeliverySourceTokens tokens, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "DeliveryToken";

    /// <summary>The policy of the delivery source's routes.</summary>
    public const string PolicyName = "delivery-source";

    /// <summary>The claim naming the study the token reads.</summary>
    public const string StudyClaim = "delivery_study";

    /// <summary>The claim naming the command the token was issued for.</summary>
    public const string CommandClaim = "delivery_command";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (tokens.Check(header["Bearer ".Length..].Trim(), time.GetUtcNow()) is not { } grant)
        {
            return Task.FromResult(AuthenticateResult.Fail("Not a valid delivery token (malformed, altered or expired)."));
        }

        var identity = new ClaimsIdentity(
            [
                new Claim("sub", "relay:" + grant.SiteId),
                new Claim(StudyClaim, grant.StudyInstanceUid),
                new Claim(CommandClaim, grant.CommandId),
            ],
            SchemeName, "sub", "roles");
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
