using System.Text.Json;

namespace ServerlessImaging.LocalRun;

/// <summary>One row of GET /sites.</summary>
internal sealed record SiteHealth(string SiteId, bool Online, DateTimeOffset? LastSeen, string? RelayVersion, string PacsEcho)
{
    public static IReadOnlyList<SiteHealth> FromApi(JsonElement body)
    {
        var rows = body.ValueKind == JsonValueKind.Array ? body : body.GetProperty("sites");
        return
        [
            .. rows.EnumerateArray().Select(s => new SiteHealth(
                s.GetProperty("siteId").GetString()!,
                s.TryGetProperty("online", out var online) && online.GetBoolean(),
                s.TryGetProperty("lastSeenAt", out var seen) && seen.ValueKind == JsonValueKind.String ? seen.GetDateTimeOffset() : null,
                s.TryGetProperty("relayVersion", out var version) ? version.GetString() : null,
                s.TryGetProperty("pacsEcho", out var echo) ? echo.GetString() ?? "Unknown" : "Unknown")),
        ];
    }
}
