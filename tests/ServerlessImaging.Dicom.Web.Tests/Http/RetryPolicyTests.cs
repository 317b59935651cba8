using System.Net;
using Azure.Core;
using ServerlessImaging.Dicom.Web.Authentication;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Dicom.Web.Stow;

namespace ServerlessImaging.Dicom.Web.Tests.Http;

/// <summary>The client's retry and authentication policy, with scripted responses (pure policy logic: no service is imitated).</summary>
public class RetryPolicyTests
{
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];
        public List<long> BodyLengths { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            if (request.Content is not null)
            {
                BodyLengths.Add((await request.Content.ReadAsByteArrayAsync(cancellationToken)).Length);
            }
            return script[Math.Min(Requests.Count - 1, script.Length - 1)](request);
        }
    }

    private static HttpResponseMessage Status(int status, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status);
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(wait);
        }
        return response;
    }

    private static DicomWebClient Client(HttpMessageHandler handler) => new(new HttpClient(handler), new DicomWebClientOptions
    {
        BaseAddress = new Uri("http://dicom.invalid/v2"),
        Retry = new DicomWebRetryOptions { MaxRetryAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(50) },
    });

    [Fact]
    public async Task Transient_statuses_are_retried_until_success()
    {
        var handler = new ScriptedHandler(_ => Status(503, TimeSpan.FromMilliseconds(10)), _ => Status(429), _ => Status(204));
        using var client = Client(handler);
        await client.DeleteAsync("1.2.3");
        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal("http://dicom.invalid/v2/studies/1.2.3", handler.Requests[0].RequestUri!.AbsoluteUri);
    }

    [Fact]
    public async Task Client_errors_are_not_retried_and_are_typed()
    {
        var handler = new ScriptedHandler(_ => Status(405));
        using var client = Client(handler);
        var error = await Assert.ThrowsAsync<DicomWebException>(() => client.DeleteAsync("1.2.3"));
        Assert.Equal(DicomWebFailureKind.NotSupported, error.Kind);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Exhausted_retries_report_a_transient_failure()
    {
        var handler = new ScriptedHandler(_ => Status(502));
        using var client = Client(handler);
        var error = await Assert.ThrowsAsync<DicomWebException>(() => client.DeleteAsync("1.2.3"));
        Assert.Equal(DicomWebFailureKind.Transient, error.Kind);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task Replayable_stow_is_resent_whole_but_a_one_shot_stream_is_sent_once()
    {
        var replayable = new ScriptedHandler(_ => Status(503));
        using (var client = Client(replayable))
        {
            await Assert.ThrowsAsync<DicomWebException>(() => client.StoreAsync([StowInstance.FromBytes(new byte[1000])]));
        }
        Assert.Equal(4, replayable.Requests.Count);
        Assert.All(replayable.BodyLengths, length => Assert.Equal(replayable.BodyLengths[0], length));
        Assert.True(replayable.BodyLengths[0] > 1000);

        var oneShot = new ScriptedHandler(_ => Status(503));
        using (var client = Client(oneShot))
        {
            using var pipe = new NonSeekable(new byte[1000]);
            await Assert.ThrowsAsync<DicomWebException>(() => client.StoreAsync([StowInstance.FromStream(pipe)]));
        }
        Assert.Single(oneShot.Requests);
    }

    [Fact]
    public async Task Bearer_token_is_attached_cached_and_dropped_after_401()
    {
        var credential = new CountingCredential();
        var terminal = new ScriptedHandler(_ => Status(204), _ => Status(204), _ => Status(401), _ => Status(204));
        using var auth = new TokenCredentialHandler(credential) { InnerHandler = terminal };
        using var http = new HttpMessageInvoker(auth);
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://dicom.invalid/"), CancellationToken.None);
        }
        Assert.Equal(["token-1", "token-1", "token-1", "token-2"], terminal.Requests.Select(r => r.Headers.Authorization!.Parameter));
        Assert.Equal("Bearer", terminal.Requests[0].Headers.Authorization!.Scheme);
        Assert.Equal([TokenCredentialHandler.AzureDicomScope], credential.Scopes);
    }

    [Fact]
    public async Task A_fixed_bearer_token_goes_on_every_request_and_never_shows_in_text()
    {
        var terminal = new ScriptedHandler(_ => Status(204), _ => Status(401));
        using var auth = DicomWebAuthentication.BearerToken("delivery-token")!.CreateHandler()!;
        auth.InnerHandler = terminal;
        using var http = new HttpMessageInvoker(auth);
        for (var i = 0; i < 2; i++)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://dicom.invalid/"), CancellationToken.None);
        }

        Assert.Equal([("Bearer", "delivery-token"), ("Bearer", "delivery-token")], terminal.Requests.Select(r => (r.Headers.Authorization!.Scheme, r.Headers.Authorization.Parameter)));
        Assert.DoesNotContain("delivery-token", DicomWebAuthentication.BearerToken("delivery-token").ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DicomWebAuthentication.BearerToken(" "));
    }

    [Fact]
    public async Task Token_close_to_expiry_is_renewed()
    {
        var credential = new CountingCredential { Lifetime = TimeSpan.FromMinutes(4) }; // inside the 5-minute margin
        using var auth = new TokenCredentialHandler(credential);
        Assert.Equal("token-1", await auth.GetTokenAsync(CancellationToken.None));
        Assert.Equal("token-2", await auth.GetTokenAsync(CancellationToken.None));
    }

    private sealed class CountingCredential : TokenCredential
    {
        private int _count;
        public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);
        public string[] Scopes { get; private set; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes = requestContext.Scopes;
            return new AccessToken($"token-{Interlocked.Increment(ref _count)}", DateTimeOffset.UtcNow + Lifetime);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
