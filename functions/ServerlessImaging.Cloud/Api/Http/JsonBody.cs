using System.Text.Json;

namespace ServerlessImaging.Cloud.Api.Http;

/// <summary>A parsed request body, or the problem to answer with.</summary>
public sealed record JsonBody<T>(T? Value, byte[] Raw, IResult? Problem)
    where T : class;

/// <summary>
/// Reads request bodies ourselves (rather than through parameter binding) so a malformed body yields our
/// problem+json with the JSON path only — framework messages could quote the offending value.
/// </summary>
public static class JsonBodyReader
{
    /// <summary>Largest body accepted (a registration is well under 4 KiB).</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Reads and deserialises the body.</summary>
    public static async Task<JsonBody<T>> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentType is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return new JsonBody<T>(null, [], Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Send application/json.", type: ApiProblems.TypeBase + "unsupported-media-type"));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return new JsonBody<T>(null, [], Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"The body exceeds {MaxBytes} bytes.", type: ApiProblems.TypeBase + "too-large"));
            }

            buffer.Write(chunk, 0, read);
        }

        var raw = buffer.ToArray();
        try
        {
            var value = JsonSerializer.Deserialize<T>(raw, ApiJson.Options);
            return value is null
                ? new JsonBody<T>(null, raw, ApiProblems.MalformedBody("$", "A JSON object is required."))
                : new JsonBody<T>(value, raw, null);
        }
        catch (JsonException ex)
        {
            // ex.Message can contain the offending token; only its location is reported.
            return new JsonBody<T>(null, raw, ApiProblems.MalformedBody(ex.Path, "Missing, unknown or wrongly typed member."));
        }
    }
}
