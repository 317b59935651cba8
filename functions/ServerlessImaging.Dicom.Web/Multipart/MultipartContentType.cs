using System.Net.Http.Headers;

namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>The parameters of a <c>multipart/related</c> Content-Type header that DICOMweb uses.</summary>
public sealed record MultipartContentType(string Boundary, string? Type, string? TransferSyntax)
{
    /// <summary>Reads the boundary (and type, transfer-syntax) from a response's Content-Type.</summary>
    /// <exception cref="MultipartFormatException">Not multipart, or the boundary is missing or invalid.</exception>
    public static MultipartContentType Parse(MediaTypeHeaderValue? header)
    {
        if (header?.MediaType is null || !header.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            throw new MultipartFormatException($"Expected a multipart Content-Type, got '{header?.MediaType ?? "(none)"}'.");
        }
        string? boundary = null, type = null, transferSyntax = null;
        foreach (var parameter in header.Parameters)
        {
            var value = Unquote(parameter.Value);
            if (parameter.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase)) boundary = value;
            else if (parameter.Name.Equals("type", StringComparison.OrdinalIgnoreCase)) type = value;
            else if (parameter.Name.Equals("transfer-syntax", StringComparison.OrdinalIgnoreCase)) transferSyntax = value;
        }
        if (boundary is null || !MultipartBoundary.IsValid(boundary))
        {
            throw new MultipartFormatException("The multipart Content-Type has no valid boundary parameter.");
        }
        return new MultipartContentType(boundary, type, transferSyntax);
    }

    /// <summary>Parses a raw header value such as <c>multipart/related; type="application/dicom"; boundary=abc</c>.</summary>
    public static MultipartContentType Parse(string headerValue)
    {
        if (!MediaTypeHeaderValue.TryParse(headerValue, out var parsed))
        {
            throw new MultipartFormatException("The Content-Type header cannot be parsed.");
        }
        return Parse(parsed);
    }

    /// <summary>The header for a request or response body with this boundary.</summary>
    public MediaTypeHeaderValue ToHeader()
    {
        var header = new MediaTypeHeaderValue("multipart/related");
        if (Type is not null) header.Parameters.Add(new NameValueHeaderValue("type", Quote(Type)));
        if (TransferSyntax is not null) header.Parameters.Add(new NameValueHeaderValue("transfer-syntax", TransferSyntax));
        header.Parameters.Add(new NameValueHeaderValue("boundary", Boundary));
        return header;
    }

    private static string? Unquote(string? value) =>
        value is { Length: >= 2 } && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    private static string Quote(string value) => "\"" + value + "\"";
}
