using System.Net;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Adapters.Cosmos;

namespace ServerlessImaging.Adapters.Audit.Atna;

/// <summary>
/// The exporter's hold on the cursor: the last chain block confirmed sent, who holds the right to move it and until when,
/// and the document's ETag, so that only the holder of this very version can move it.
/// </summary>
public sealed record AtnaExportLease(long Position, string Holder, DateTimeOffset Until, string ETag);

/// <summary>Another exporter took the cursor since this one read it (its lease had expired): this one must stop sending.</summary>
public sealed class AtnaExportLeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AtnaExportLeaseLostException()
        : base("The ATNA export cursor was taken by another exporter.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public AtnaExportLeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public AtnaExportLeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The ATNA export's durable cursor and lease, one document <c>atna-export-cursor</c> in the <c>idempotency</c> container
/// (the audit container is create-only for the app, and a cursor moves). Cursor and lease are one document changed only
/// with its ETag: an exporter whose lease ran out and was taken cannot move the cursor any more (its write is refused), so
/// two app instances never both advance it, and the position only grows.
/// </summary>
public sealed class AtnaExportCursor(Container container, TimeProvider? time = null)
{
    /// <summary>Id (and partition key) of the cursor document.</summary>
    public const string DocumentId = "atna-export-cursor";

    private readonly TimeProvider time = time ?? TimeProvider.System;

    /// <summary>The last block confirmed sent (0 before the first), whoever holds the lease.</summary>
    public async Task<long> ReadPositionAsync(CancellationToken cancellationToken) =>
        (await ReadAsync(cancellationToken).ConfigureAwait(false))?.Document.Position ?? 0;

    /// <summary>
    /// Takes the lease for <paramref name="duration"/> unless another holder's lease is still running (null then, as when
    /// another exporter takes it at the same moment). A holder may take its own lease again.
    /// </summary>
    public async Task<AtnaExportLease?> TryAcquireAsync(string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        var now = time.GetUtcNow();
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (current is { Document: var held } && !string.Equals(held.Holder, holder, StringComparison.Ordinal) && held.LeaseUntilMs > now.ToUnixTimeMilliseconds())
        {
            return null;
        }

        var next = new CursorDocument(DocumentId, current?.Document.Position ?? 0, holder, (now + duration).ToUnixTimeMilliseconds());
        return await WriteAsync(next, current?.ETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves the cursor to <paramref name="position"/> (a confirmed batch) and extends the lease by <paramref name="duration"/>.</summary>
    /// <exception cref="AtnaExportLeaseLostException">The document changed since <paramref name="lease"/>: another exporter holds it now.</exception>
    public async Task<AtnaExportLease> AdvanceAsync(AtnaExportLease lease, long position, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentOutOfRangeException.ThrowIfLessThan(position, lease.Position);
        var until = (time.GetUtcNow() + duration).ToUnixTimeMilliseconds();
        return await WriteAsync(new CursorDocument(DocumentId, position, lease.Holder, until), lease.ETag, cancellationToken).ConfigureAwait(false)
            ?? throw new AtnaExportLeaseLostException();
    }

    /// <summary>Gives the lease up (another exporter need not wait for it to run out); nothing happens if it was lost already.</summary>
    public async Task ReleaseAsync(AtnaExportLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        _ = await WriteAsync(new CursorDocument(DocumentId, lease.Position, lease.Holder, 0), lease.ETag, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(CursorDocument Document, string ETag)?> ReadAsync(CancellationToken cancellationToken)
    {
        using var response = await container.ReadItemStreamAsync(DocumentId, new PartitionKey(DocumentId), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (CosmosJson.IsNotFound(response))
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "reading the ATNA export cursor");
        var document = await JsonSerializer.DeserializeAsync<CursorDocument>(response.Content, CosmosJson.Options, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("The ATNA export cursor is empty.");
        return (document, response.Headers.ETag);
    }

    // Create when there is no document yet, else replace this very version: a conflict or a stale ETag means another won.
    private async Task<AtnaExportLease?> WriteAsync(CursorDocument document, string? etag, CancellationToken cancellationToken)
    {
        using var body = CosmosJson.ToStream(document);
        using var response = etag is null
            ? await container.CreateItemStreamAsync(body, new PartitionKey(DocumentId), cancellationToken: cancellationToken).ConfigureAwait(false)
            : await container.ReplaceItemStreamAsync(body, DocumentId, new PartitionKey(DocumentId), new ItemRequestOptions { IfMatchEtag = etag }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed)
        {
            return null;
        }

        CosmosJson.EnsureSuccess(response, "writing the ATNA export cursor");
        return new AtnaExportLease(document.Position, document.Holder, DateTimeOffset.FromUnixTimeMilliseconds(document.LeaseUntilMs), response.Headers.ETag);
    }

    /// <summary>The stored cursor (no patient data: a position, a host and process name, a time).</summary>
    private sealed record CursorDocument(string Id, long Position, string Holder, long LeaseUntilMs)
    {
        public string Kind { get; } = "atna-export-cursor";
    }
}
