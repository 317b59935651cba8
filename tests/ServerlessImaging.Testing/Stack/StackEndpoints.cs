using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessImaging.Testing.Stack;

/// <summary>Every endpoint of the local stack, as written by <c>tools/stack up</c> to .local/stack/stack.json.</summary>
public sealed record StackEndpoints(
    StorageEndpoints Storage,
    CosmosEndpoints Cosmos,
    IReadOnlyList<SitePacs> SitePacs,
    DicomServiceEndpoints DicomService,
    MailEndpoints Mail,
    IReadOnlyList<DicomPeer> CallingAeTitles)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The site PACS for a site id (chu-nord, clinique-sud, ch-est).</summary>
    public SitePacs Site(string siteId) =>
        SitePacs.FirstOrDefault(s => string.Equals(s.Site, siteId, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"No site PACS '{siteId}' in stack.json; known: {string.Join(", ", SitePacs.Select(s => s.Site))}.");

    /// <summary>A calling AE title every PACS accepts, with the port its own SCP would listen on.</summary>
    public DicomPeer CallingAe(string aeTitle) =>
        CallingAeTitles.FirstOrDefault(a => string.Equals(a.AeTitle, aeTitle, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"AE title '{aeTitle}' is not one the local PACS accept.");

    /// <summary>
    /// The meeting site's own PACS (issue 17's delivery destination: Orthanc <c>RCPPACS</c>, reached through the
    /// chu-nord relay). Null in a stack.json written before it existed.
    /// </summary>
    public SitePacs? MeetingPacs { get; init; }

    /// <summary>The meeting PACS, or a clear failure when this stack has none (run <c>tools/stack up</c>).</summary>
    public SitePacs RequireMeetingPacs() =>
        MeetingPacs ?? throw new KeyNotFoundException("No meetingPacs in stack.json: run tools/stack up to start it.");

    /// <summary>The ATNA audit collector (rsyslog over TLS). Null in a stack.json written before it existed.</summary>
    public AtnaEndpoints? Atna { get; init; }

    /// <summary>The ATNA collector, or a clear failure when this stack has none (run <c>tools/stack up</c>).</summary>
    public AtnaEndpoints RequireAtna() =>
        Atna ?? throw new KeyNotFoundException("No atna in stack.json: run tools/stack up to start it.");

    public static StackEndpoints Parse(string json) =>
        JsonSerializer.Deserialize<StackEndpoints>(json, JsonOptions)
        ?? throw new InvalidDataException("stack.json is empty.");

    public static async Task<StackEndpoints> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var json = await File.ReadAllTextAsync(path, cancellationToken);
        try
        {
            return Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid stack.json: {ex.Message}", ex);
        }
    }
}

public sealed record StorageEndpoints(
    string AccountName,
    string AccountKey,
    Uri BlobEndpoint,
    Uri QueueEndpoint,
    Uri TableEndpoint,
    string ConnectionString);

/// <summary>The Cosmos DB stand-in; it serves HTTPS with a self-signed certificate.</summary>
public sealed record CosmosEndpoints(Uri Endpoint, string Key, string ConnectionString, bool SelfSignedCertificate);

public enum PacsKind
{
    Orthanc,
    Dcmqrscp,
}

public sealed record SitePacs(string Site, PacsKind Kind, string AeTitle, string Host, int DicomPort, Uri? HttpUrl);

public sealed record DicomServiceEndpoints(string AeTitle, string Host, int DicomPort, Uri HttpUrl, Uri DicomWebBaseUrl);

public sealed record MailEndpoints(string SmtpHost, int SmtpPort, Uri WebUrl);

public sealed record DicomPeer(string AeTitle, string Host, int Port);

/// <summary>The ATNA collector: syslog over TLS on Host:Port, its CA (PEM), and the file it writes each received message to, one per line.</summary>
public sealed record AtnaEndpoints(string Host, int Port, string CaCertificatePath, string ReceivedPath);
