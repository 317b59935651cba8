using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ServerlessImaging.DevToken;

namespace ServerlessImaging.LocalRun;

/// <summary>The HTTP API as the RCP software, the 3C coordinator, an auditor and an administrator call it (dev tokens).</summary>
internal sealed class ApiSession : IDisposable
{
    private readonly HttpClient http;
    private readonly Dictionary<string, string> tokens = [];

    public ApiSession(Uri apiUrl, string stackJson)
    {
        http = new HttpClient { BaseAddress = apiUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var issuer = DevTokenIssuer.FromStackJson(stackJson);
        foreach (var role in new[] { "registrar", "coordinator", "auditor", "admin" })
        {
            // One subject per role, as distinct callers appear in the audit trail.
            var subject = role == "registrar" ? "rcp-software" : "run-local-" + role;
            tokens[role] = issuer.Issue(subject, [role], TimeSpan.FromMinutes(30));
        }
    }

    public Uri BaseAddress => http.BaseAddress!;

    /// <summary>True when the anonymous liveness probe answers 200.</summary>
    public async Task<bool> IsAliveAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Sends a request and returns the JSON body; any status other than <paramref name="expected"/> fails the run.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, string role, object? body, HttpStatusCode expected, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[role]);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != expected)
        {
            // problem+json titles and field codes never echo submitted values, so they are safe to print.
            throw new LocalRunException($"{method} {PathOnly(path)} answered {(int)response.StatusCode} instead of {(int)expected}: {ProblemSummary(text)}");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public void Dispose() => http.Dispose();

    private static string PathOnly(string path) => path.Split('?')[0];

    private static string ProblemSummary(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var errors = root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Array
                ? string.Join(", ", e.EnumerateArray().Select(x => x.TryGetProperty("field", out var f) ? f.GetString() + "=" + (x.TryGetProperty("code", out var c) ? c.GetString() : "?") : "?"))
                : null;
            return (title ?? "no title") + (string.IsNullOrEmpty(errors) ? string.Empty : " (" + errors + ")");
        }
        catch (JsonException)
        {
            return "non-JSON body";
        }
    }
}
