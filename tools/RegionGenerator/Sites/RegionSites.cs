using System.Text.Json;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.RegionGenerator.Sites;

/// <summary>The three site PACS of the local region, with endpoints from the stack's stack.json when it exists.</summary>
public static class RegionSites
{
    public static readonly IReadOnlyList<ManifestSite> Defaults =
    [
        new() { Id = "chu-nord", Kind = SiteKind.Orthanc, AeTitle = "CHUNORD", Host = "127.0.0.1", DicomPort = 11112, HttpPort = 8142 },
        new() { Id = "clinique-sud", Kind = SiteKind.Orthanc, AeTitle = "CLINSUD", Host = "127.0.0.1", DicomPort = 11113, HttpPort = 8143 },
        new() { Id = "ch-est", Kind = SiteKind.Dcmqrscp, AeTitle = "CHEST", Host = "127.0.0.1", DicomPort = 11114 },
    ];

    public static IReadOnlyList<string> DefaultIds => [.. Defaults.Select(s => s.Id)];

    /// <summary>
    /// Sites for the given ids. Endpoints come from the stack's stack.json when given and readable
    /// ("sitePacs": [{ site, aeTitle, host, dicomPort, httpUrl }]), else the defaults.
    /// </summary>
    public static IReadOnlyList<ManifestSite> Resolve(IReadOnlyList<string> siteIds, string? stackJsonPath)
    {
        ArgumentNullException.ThrowIfNull(siteIds);
        var overrides = stackJsonPath is not null && File.Exists(stackJsonPath) ? ReadStackJson(stackJsonPath) : [];
        var result = new List<ManifestSite>();
        foreach (var id in siteIds)
        {
            var site = Defaults.FirstOrDefault(s => s.Id == id)
                ?? throw new ArgumentException($"Unknown site '{id}'; expected one of {string.Join(", ", DefaultIds)}.", nameof(siteIds));
            result.Add(overrides.TryGetValue(id, out var over) ? Merge(site, over) : site);
        }
        return result;
    }

    private static ManifestSite Merge(ManifestSite site, JsonElement e) => site with
    {
        AeTitle = Str(e, "aeTitle") ?? Str(e, "ae") ?? Str(e, "aet") ?? site.AeTitle,
        Host = Str(e, "host") ?? site.Host,
        DicomPort = Int(e, "dicomPort") ?? Int(e, "port") ?? site.DicomPort,
        HttpPort = site.Kind == SiteKind.Orthanc
            ? Int(e, "httpPort") ?? (Uri.TryCreate(Str(e, "httpUrl"), UriKind.Absolute, out var url) ? url.Port : site.HttpPort)
            : null,
    };

    private static Dictionary<string, JsonElement> ReadStackJson(string path)
    {
        var found = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("sitePacs", out var sites) && !doc.RootElement.TryGetProperty("sites", out sites))
            {
                return found;
            }
            if (sites.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in sites.EnumerateObject())
                {
                    found[p.Name] = p.Value.Clone();
                }
            }
            else if (sites.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in sites.EnumerateArray())
                {
                    if ((Str(s, "site") ?? Str(s, "id")) is { } id)
                    {
                        found[id] = s.Clone();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A half-written stack.json (stack starting up) must not break generation; defaults are the documented endpoints.
        }
        return found;
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;
}
