using System.Text.Json;

namespace ServerlessImaging.LocalRun;

/// <summary>One site PACS as tools/stack up describes it; <paramref name="HttpUrl"/> is Orthanc's REST root (null for dcmqrscp).</summary>
internal sealed record SitePacs(string SiteId, string AeTitle, string Host, int DicomPort, Uri? HttpUrl = null);

/// <summary>The stack's ATNA collector (rsyslog over TLS): where it listens, its CA, and the file it writes every message to.</summary>
internal sealed record AtnaCollector(string Host, int Port, string CaCertificatePath, string ReceivedPath);

/// <summary>The endpoints tools/stack up wrote to .local/stack/stack.json.</summary>
internal sealed record StackEndpoints(
    string StorageConnectionString,
    string CosmosConnectionString,
    Uri DicomWebBaseUrl,
    Uri DicomServiceHttpUrl,
    string SmtpHost,
    int SmtpPort,
    Uri MailWebUrl,
    string AuthIssuer,
    string AuthAudience,
    string JwksPath,
    IReadOnlyList<SitePacs> Sites)
{
    /// <summary>The meeting site's PACS (a delivery destination, reached through its site's relay), when the stack has one.</summary>
    public SitePacs? MeetingPacs { get; init; }

    /// <summary>The ATNA collector, when the stack has one.</summary>
    public AtnaCollector? Atna { get; init; }

    /// <summary>The development signing key (private JWK) the app's Development-only sign-in page uses.</summary>
    public string? SigningKeyPath { get; init; }

    public static StackEndpoints Load(string stackJson)
    {
        if (!File.Exists(stackJson))
        {
            throw new LocalRunException($"{stackJson} is missing after tools/stack up");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(stackJson));
        var root = document.RootElement;
        string Text(string section, string name) => root.GetProperty(section).GetProperty(name).GetString()
            ?? throw new LocalRunException($"stack.json has no {section}.{name}");
        var sites = root.GetProperty("sitePacs").EnumerateArray()
            .Select(s => new SitePacs(
                s.GetProperty("site").GetString()!,
                s.GetProperty("aeTitle").GetString()!,
                s.GetProperty("host").GetString()!,
                s.GetProperty("dicomPort").GetInt32(),
                s.TryGetProperty("httpUrl", out var http) && http.ValueKind == JsonValueKind.String ? new Uri(http.GetString()!) : null))
            .ToList();
        return new StackEndpoints(
            Text("storage", "connectionString"),
            Text("cosmos", "connectionString"),
            new Uri(Text("dicomService", "dicomWebBaseUrl")),
            new Uri(Text("dicomService", "httpUrl")),
            Text("mail", "smtpHost"),
            root.GetProperty("mail").GetProperty("smtpPort").GetInt32(),
            new Uri(Text("mail", "webUrl")),
            Text("auth", "issuer"),
            Text("auth", "audience"),
            Text("auth", "jwksPath"),
            sites)
        {
            SigningKeyPath = root.GetProperty("auth").TryGetProperty("signingKeyPath", out var key) ? key.GetString() : null,
            Atna = root.TryGetProperty("atna", out var atna) && atna.ValueKind == JsonValueKind.Object
                ? new AtnaCollector(atna.GetProperty("host").GetString()!, atna.GetProperty("port").GetInt32(), atna.GetProperty("caCertificatePath").GetString()!, atna.GetProperty("receivedPath").GetString()!)
                : null,
            MeetingPacs = root.TryGetProperty("meetingPacs", out var meeting) && meeting.ValueKind == JsonValueKind.Object
                ? new SitePacs(meeting.GetProperty("site").GetString()!, meeting.GetProperty("aeTitle").GetString()!, meeting.GetProperty("host").GetString()!, meeting.GetProperty("dicomPort").GetInt32(), meeting.TryGetProperty("httpUrl", out var meetingHttp) && meetingHttp.ValueKind == JsonValueKind.String ? new Uri(meetingHttp.GetString()!) : null)
                : null,
        };
    }
}
