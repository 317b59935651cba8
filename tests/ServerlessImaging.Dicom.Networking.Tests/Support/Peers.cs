using System.Text.Json;

namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>A DIMSE peer of the local stack.</summary>
public sealed record PacsPeer(string Name, string AeTitle, string Host, int Port, string? HttpUrl)
{
    public override string ToString() => Name;
}

/// <summary>Endpoints of the local stack, read from .local/stack/stack.json when present, else the documented defaults.</summary>
public static class Peers
{
    /// <summary>Our calling AE; every PACS also knows it as move destination on <see cref="TestScpPort"/>.</summary>
    public const string CallingAe = "SI_TEST";
    public const int TestScpPort = 11130;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static PacsPeer ChuNord { get; } = Load("chu-nord", new PacsPeer("Orthanc CHUNORD", "CHUNORD", "127.0.0.1", 11112, "http://127.0.0.1:8142/"));
    public static PacsPeer CliniqueSud { get; } = Load("clinique-sud", new PacsPeer("Orthanc CLINSUD", "CLINSUD", "127.0.0.1", 11113, "http://127.0.0.1:8143/"));
    public static PacsPeer ChEst { get; } = Load("ch-est", new PacsPeer("dcmqrscp CHEST", "CHEST", "127.0.0.1", 11114, null));

    private static PacsPeer Load(string site, PacsPeer fallback)
    {
        var path = Path.Combine(RepoRoot, ".local", "stack", "stack.json");
        if (!File.Exists(path)) return fallback;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("sitePacs", out var sites)) return fallback;
        foreach (var s in sites.EnumerateArray())
        {
            if (s.GetProperty("site").GetString() != site) continue;
            return fallback with
            {
                AeTitle = s.GetProperty("aeTitle").GetString()!,
                Host = s.GetProperty("host").GetString()!,
                Port = s.GetProperty("dicomPort").GetInt32(),
            };
        }
        return fallback;
    }

    private static string FindRepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "ServerlessImaging.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("Repository root not found.");
    }
}
