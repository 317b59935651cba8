using System.Text;

namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>
/// Writes a multipart body part by part onto a stream (RFC 2046), copying each part's content as it
/// is read so that no part is ever held whole in memory.
/// </summary>
public sealed class MultipartWriter
{
    private const int CopyBufferSize = 256 * 1024; // few large writes: one syscall per 256 KB of instance
    private readonly Stream _destination;
    private readonly byte[] _delimiter; // CRLF "--" boundary
    private bool _first = true;

    public MultipartWriter(Stream destination, string boundary)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!MultipartBoundary.IsValid(boundary))
        {
            throw new MultipartFormatException("Invalid multipart boundary.");
        }
        _destination = destination;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
    }

    /// <summary>Bytes the framing adds around one part with this Content-Type (for Content-Length).</summary>
    public static long PartOverhead(string boundary, string contentType, bool first) =>
        PartHeader(boundary, contentType, first).Length;

    /// <summary>Bytes of the close delimiter.</summary>
    public static long CloseOverhead(string boundary) => ("\r\n--" + boundary + "--\r\n").Length;

    public async ValueTask WritePartAsync(string contentType, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        await WritePartHeaderAsync(contentType, cancellationToken).ConfigureAwait(false);
        await content.CopyToAsync(_destination, CopyBufferSize, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WritePartAsync(string contentType, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await WritePartHeaderAsync(contentType, cancellationToken).ConfigureAwait(false);
        await _destination.WriteAsync(content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the close delimiter; the writer must not be used afterwards.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        await _destination.WriteAsync(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(_delimiter) + "--\r\n"), cancellationToken).ConfigureAwait(false);
        await _destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WritePartHeaderAsync(string contentType, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(contentType);
        // Delimiter and part headers leave in one write: the transport may send each write as its own segment.
        // The first boundary needs no leading CRLF; every later one belongs to the delimiter.
        var delimiter = _first ? _delimiter.AsSpan(2) : _delimiter;
        var header = PartHeaderAfterBoundary(contentType);
        var framing = new byte[delimiter.Length + header.Length];
        delimiter.CopyTo(framing);
        header.CopyTo(framing.AsSpan(delimiter.Length));
        await _destination.WriteAsync(framing, cancellationToken).ConfigureAwait(false);
        _first = false;
    }

    private static byte[] PartHeaderAfterBoundary(string contentType) =>
        Encoding.ASCII.GetBytes("\r\nContent-Type: " + contentType + "\r\n\r\n");

    private static string PartHeader(string boundary, string contentType, bool first) =>
        (first ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " + contentType + "\r\n\r\n";
}
