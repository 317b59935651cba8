using System.Net;
using ServerlessImaging.Dicom.Web.Multipart;

namespace ServerlessImaging.Dicom.Web.Stow;

/// <summary>
/// The STOW-RS request body: <c>multipart/related; type="application/dicom"</c> written part by part
/// while the request is being sent. Instance n + 1 is opened while instance n streams, so a remote source's round
/// trip (a blob download) overlaps the upload instead of stalling it; at most two are open at once.
/// </summary>
public sealed class StowContent : HttpContent
{
    public const string DicomMediaType = "application/dicom";
    private readonly IReadOnlyList<StowInstance> _instances;
    private readonly string _boundary;

    public StowContent(IReadOnlyList<StowInstance> instances, string? boundary = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0)
        {
            throw new ArgumentException("A STOW request needs at least one instance.", nameof(instances));
        }
        _instances = instances;
        _boundary = boundary ?? MultipartBoundary.Create();
        Headers.ContentType = new MultipartContentType(_boundary, DicomMediaType, null).ToHeader();
    }

    public string Boundary => _boundary;

    /// <summary>True if every instance can be reopened, so a failed attempt can be sent again.</summary>
    public bool IsReplayable => _instances.All(i => i.CanReopen);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var writer = new MultipartWriter(stream, _boundary);
        var opening = _instances[0].OpenAsync(cancellationToken).AsTask();
        for (var i = 0; i < _instances.Count; i++)
        {
            var content = await opening.ConfigureAwait(false);
            var ahead = i + 1 < _instances.Count ? _instances[i + 1].OpenAsync(cancellationToken).AsTask() : null;
            try
            {
                await using (content.ConfigureAwait(false))
                {
                    await writer.WritePartAsync(DicomMediaType, content, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                await CloseUnusedAsync(ahead).ConfigureAwait(false);
                throw;
            }

            opening = ahead ?? opening;
        }
        await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    // The request failed while the next instance was being opened: close it, and leave its own failure unobserved on
    // purpose (the request's failure is the one to report).
    private static async Task CloseUnusedAsync(Task<Stream>? opening)
    {
        if (opening is null)
        {
            return;
        }

        try
        {
            await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = MultipartWriter.CloseOverhead(_boundary);
        for (var i = 0; i < _instances.Count; i++)
        {
            if (_instances[i].Length is not { } partLength)
            {
                length = 0;
                return false;
            }
            length += partLength + MultipartWriter.PartOverhead(_boundary, DicomMediaType, first: i == 0);
        }
        return true;
    }
}
