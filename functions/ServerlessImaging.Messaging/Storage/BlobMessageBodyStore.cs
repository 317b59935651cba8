using Azure;
using Azure.Storage.Blobs;

namespace ServerlessImaging.Messaging.Storage;

/// <summary>
/// Offloaded bodies as blobs named <c>&lt;queue&gt;/&lt;yyyy-MM-dd&gt;/&lt;guid&gt;.json</c> in one container
/// (normally <c>ResourceNames.MessageBodiesContainer</c>); a lifecycle rule removes what a crashed receiver left.
/// </summary>
public sealed class BlobMessageBodyStore : IMessageBodyStore
{
    private readonly BlobContainerClient _container;
    private readonly TimeProvider _time;
    private int _ensured;

    /// <summary>Creates the store over a container client (connection string or token credential).</summary>
    public BlobMessageBodyStore(BlobContainerClient container, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Whether to create the container on first upload (local stacks only; in Azure Bicep creates it).</summary>
    public bool CreateContainerIfMissing { get; init; }

    /// <inheritdoc />
    public async Task<MessageBodyReference> UploadAsync(string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (CreateContainerIfMissing && Interlocked.Exchange(ref _ensured, 1) == 0)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        var name = $"{queue}/{_time.GetUtcNow():yyyy-MM-dd}/{Guid.NewGuid():N}.json";
        await _container.GetBlobClient(name).UploadAsync(new BinaryData(body), overwrite: false, cancellationToken);
        return new MessageBodyReference(_container.Name, name);
    }

    /// <inheritdoc />
    public async Task<byte[]?> DownloadAsync(MessageBodyReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        try
        {
            var result = await _container.GetBlobClient(reference.Blob).DownloadContentAsync(cancellationToken);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(MessageBodyReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        await _container.GetBlobClient(reference.Blob).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }
}
