using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessImaging.RegionGenerator.Manifest;

/// <summary>Reads and writes manifest.json. Output is stable (fixed property order, '\n' line ends) so equal regions give equal bytes.</summary>
public static class RegionManifestFile
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NewLine = "\n",
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        // Keep accents readable in the file; it is ground truth people look at.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static byte[] Serialize(RegionManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, Json);

    public static async Task SaveAsync(RegionManifest manifest, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllBytesAsync(Path.Combine(directory, FileName), Serialize(manifest), cancellationToken);
    }

    /// <summary>Loads a manifest from its file path, or from a directory containing manifest.json.</summary>
    public static async Task<RegionManifest> LoadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new RegionManifestException($"No region manifest at '{file}'.");
        }
        await using var stream = File.OpenRead(file);
        RegionManifest? manifest;
        try
        {
            manifest = await JsonSerializer.DeserializeAsync<RegionManifest>(stream, Json, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new RegionManifestException($"Region manifest '{file}' is not valid: {ex.Message}", ex);
        }
        if (manifest is null)
        {
            throw new RegionManifestException($"Region manifest '{file}' is empty.");
        }
        if (manifest.SchemaVersion != RegionManifest.CurrentSchemaVersion)
        {
            throw new RegionManifestException($"Region manifest '{file}' has schema version {manifest.SchemaVersion}; this build reads {RegionManifest.CurrentSchemaVersion}.");
        }
        return manifest;
    }
}

public sealed class RegionManifestException : Exception
{
    public RegionManifestException(string message) : base(message) { }
    public RegionManifestException(string message, Exception inner) : base(message, inner) { }
    public RegionManifestException() { }
}
