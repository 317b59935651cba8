using System.Text.Json;

namespace ServerlessImaging.DimseBench;

/// <summary>Where the benchmark's peer (Orthanc CHUNORD) and our destination AE (SI_BENCH) are; read from .local/stack/stack.json.</summary>
internal sealed record BenchEnvironment(string Host, string PacsAe, int PacsPort, string PacsHttp, string BenchAe, int BenchPort)
{
    public static BenchEnvironment FromStack()
    {
        var fallback = new BenchEnvironment("127.0.0.1", "CHUNORD", 11112, "http://127.0.0.1:8142/", "SI_BENCH", 11131);
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "ServerlessImaging.sln"))) dir = Path.GetDirectoryName(dir);
        var path = dir is null ? null : Path.Combine(dir, ".local", "stack", "stack.json");
        if (path is null || !File.Exists(path)) return fallback;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var env = fallback;
        foreach (var s in doc.RootElement.GetProperty("sitePacs").EnumerateArray())
            if (s.GetProperty("site").GetString() == "chu-nord")
                env = env with { PacsAe = s.GetProperty("aeTitle").GetString()!, PacsPort = s.GetProperty("dicomPort").GetInt32(), PacsHttp = s.GetProperty("httpUrl").GetString()! };
        foreach (var c in doc.RootElement.GetProperty("callingAeTitles").EnumerateArray())
            if (c.GetProperty("aeTitle").GetString() == "SI_BENCH") env = env with { BenchPort = c.GetProperty("port").GetInt32() };
        return env;
    }
}
