using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using ServerlessImaging.DevToken;
using ServerlessImaging.Cloud.Api.Delivery;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// Generated from the endpoints the app actually maps: every endpoint refuses anonymous, forged, expired and
/// wrong-audience tokens (401) and every role it does not grant (403); only /healthz is anonymous; the OpenAPI
/// document lists exactly the mapped routes. A new endpoint without a role policy fails here.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class EndpointContractTests(LocalStackFixture stack) : IAsyncLifetime
{
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private sealed record Target(string Method, string Template, string Path, IReadOnlySet<string> AllowedRoles, bool Anonymous, bool DeliveryToken = false);

    private List<Target> Targets()
    {
        var targets = new List<Target>();
        foreach (var endpoint in host.Endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var template = "/" + endpoint.RoutePattern.RawText!.Trim('/');
            var path = template
                .Replace("{meetingId}", "m-contract", StringComparison.Ordinal)
                .Replace("{registrationId}", "reg-contract", StringComparison.Ordinal)
                .Replace("{studyUid}", "1.2.3", StringComparison.Ordinal)
                .Replace("{seriesUid}", "1.2.3.4", StringComparison.Ordinal)
                .Replace("{documentName}", "v1", StringComparison.Ordinal);
            Assert.DoesNotContain("{", path, StringComparison.Ordinal); // a new route parameter: give it a sample value above
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToList();
            if (policies.Contains(DeliverySourceAuthenticationHandler.PolicyName))
            {
                // Relays with a delivery token, no API role at all (DeliverySourceTests covers the token itself).
                targets.AddRange(methods.Select(m => new Target(m, template, path, new HashSet<string>(), anonymous, DeliveryToken: true)));
                continue;
            }

            var allowed = new HashSet<string>(StringComparer.Ordinal) { ApiRoles.Admin };
            if (policies.Count == 0)
            {
                allowed.UnionWith(ApiRoles.All); // fallback policy: any app role
            }

            // "role:a|b" grants either role (ApiRoles.RegistrarOrCoordinator).
            foreach (var role in ApiRoles.All.Where(r => policies.Any(p => p.StartsWith("role:", StringComparison.Ordinal) && p["role:".Length..].Split('|').Contains(r))))
            {
                allowed.Add(role);
            }

            targets.AddRange(methods.Select(m => new Target(m, template, path, allowed, anonymous)));
        }

        return targets;
    }

    private async Task<HttpStatusCode> StatusAsync(Target target, string? bearer)
    {
        using var request = new HttpRequestMessage(new HttpMethod(target.Method), target.Path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (target.Method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await host.Client.SendAsync(request);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return response.StatusCode;
    }

    [Fact]
    public void Only_the_liveness_probe_is_anonymous()
    {
        var anonymous = Targets().Where(t => t.Anonymous).Select(t => t.Template).Distinct().ToList();
        Assert.Equal(["/healthz"], anonymous);
        Assert.True(Targets().Count >= 13);
    }

    [Fact]
    public async Task Every_endpoint_answers_401_without_a_valid_token()
    {
        using var otherKey = RSA.Create(2048);
        var forgedJwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["n"] = B64(otherKey.ExportParameters(true).Modulus!),
            ["e"] = B64(otherKey.ExportParameters(true).Exponent!),
            ["d"] = B64(otherKey.ExportParameters(true).D!),
            ["p"] = B64(otherKey.ExportParameters(true).P!),
            ["q"] = B64(otherKey.ExportParameters(true).Q!),
            ["dp"] = B64(otherKey.ExportParameters(true).DP!),
            ["dq"] = B64(otherKey.ExportParameters(true).DQ!),
            ["qi"] = B64(otherKey.ExportParameters(true).InverseQ!),
        });
        using var forger = new DevTokenIssuer(forgedJwk, host.Tokens.Issuer, host.Tokens.Audience);
        var badTokens = new Dictionary<string, string?>
        {
            ["none"] = null,
            ["garbage"] = "not.a.jwt",
            ["forged signature"] = forger.Issue("mallory", [ApiRoles.Admin], TimeSpan.FromMinutes(10)),
            ["expired"] = host.Tokens.Issue("late", [ApiRoles.Admin], TimeSpan.FromMinutes(-10)),
            ["wrong audience"] = host.Tokens.Issue("elsewhere", [ApiRoles.Admin], TimeSpan.FromMinutes(10), audience: "api://another-app"),
        };

        var failures = new List<string>();
        foreach (var target in Targets().Where(t => !t.Anonymous))
        {
            foreach (var (name, token) in badTokens)
            {
                var status = await StatusAsync(target, token);
                if (status != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{target.Method} {target.Template} with {name}: {(int)status}");
                }
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Every_endpoint_answers_403_to_each_role_it_does_not_grant_and_to_a_token_without_roles()
    {
        var failures = new List<string>();
        foreach (var target in Targets().Where(t => t.DeliveryToken))
        {
            // No API token opens the delivery source, whatever its roles: it is not a delivery token.
            foreach (var role in ApiRoles.All)
            {
                var status = await StatusAsync(target, host.Tokens.Issue("someone", [role], TimeSpan.FromMinutes(10)));
                if (status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden))
                {
                    failures.Add($"{target.Method} {target.Template} as {role}: {(int)status}");
                }
            }
        }

        foreach (var target in Targets().Where(t => !t.Anonymous && !t.DeliveryToken))
        {
            foreach (var role in ApiRoles.All.Where(r => !target.AllowedRoles.Contains(r)).Append("no-such-role"))
            {
                var status = await StatusAsync(target, host.Tokens.Issue("someone", [role], TimeSpan.FromMinutes(10)));
                if (status != HttpStatusCode.Forbidden)
                {
                    failures.Add($"{target.Method} {target.Template} as {role}: {(int)status}");
                }
            }

            // The granted roles get past authorization (whatever the handler then says about the sample ids and body).
            foreach (var role in target.AllowedRoles)
            {
                var status = await StatusAsync(target, host.Tokens.Issue("someone", [role], TimeSpan.FromMinutes(10)));
                if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    failures.Add($"{target.Method} {target.Template} as granted {role}: {(int)status}");
                }
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_openapi_document_lists_exactly_the_mapped_routes()
    {
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Get, "/openapi/v1.json", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var documented = body.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .Order(StringComparer.Ordinal).ToList();
        var mapped = Targets().Where(t => t.Template != "/openapi/{documentName}.json")
            .Select(t => $"{t.Method} {t.Template}").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(mapped, documented);
        Assert.Contains("POST /meetings/{meetingId}/registrations", documented);
        Assert.Equal("bearer", body.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Refusals_are_audited_as_security_alerts()
    {
        using var _ = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/sites"));
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?pageSize=50", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var records = body.GetProperty("records").EnumerateArray().ToList();
        Assert.Contains(records, r => r.GetProperty("eventId").GetProperty("code").GetString() == "110113"
            && r.GetProperty("eventType").GetString() == "Unauthenticated:SitesRead"
            && r.GetProperty("outcome").GetInt32() == 4);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
