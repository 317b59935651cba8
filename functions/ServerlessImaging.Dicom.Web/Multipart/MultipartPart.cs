namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>
/// One body part of a multipart message being read. <see cref="Body"/> streams straight from the
/// underlying connection, so it is valid only until the next part is requested.
/// </summary>
public sealed class MultipartPart
{
    internal MultipartPart(IReadOnlyDictionary<string, string> headers, Stream body)
    {
        Headers = headers;
        Body = body;
    }

    /// <summary>Part headers, names compared case-insensitively.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? ContentType => Headers.TryGetValue("Content-Type", out var value) ? value : null;

    public string? ContentLocation => Headers.TryGetValue("Content-Location", out var value) ? value : null;

    /// <summary>The part's content, read-only and forward-only.</summary>
    public Stream Body { get; }
}
