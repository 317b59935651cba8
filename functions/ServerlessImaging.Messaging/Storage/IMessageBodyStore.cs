namespace ServerlessImaging.Messaging.Storage;

/// <summary>Where message bodies too large for one queue message are kept, referenced from the queue message.</summary>
public interface IMessageBodyStore
{
    /// <summary>Stores a body and returns its reference.</summary>
    Task<MessageBodyReference> UploadAsync(string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>Reads a stored body; null when it no longer exists.</summary>
    Task<byte[]?> DownloadAsync(MessageBodyReference reference, CancellationToken cancellationToken);

    /// <summary>Deletes a stored body (no error if it is already gone).</summary>
    Task DeleteAsync(MessageBodyReference reference, CancellationToken cancellationToken);
}

/// <summary>Reference to an offloaded body: container and blob name.</summary>
public sealed record MessageBodyReference(string Container, string Blob);
