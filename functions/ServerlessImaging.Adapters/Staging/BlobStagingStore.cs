using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Staging;

/// <summary>
/// The staging container between relays and the store activity. Relays get a short-lived SAS limited to
/// create + write + list on the container (no read, no delete): a user-delegation SAS signed with the app's
/// managed identity in Azure, a service SAS signed with the account key locally (Azurite).
/// </summary>
public sealed class BlobStagingStore(BlobContainerClient container) : IStagingStore
{
    /// <inheritdoc />
    public async Task<StagingCredential> CreateWriteCredentialAsync(string prefix, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var builder = new BlobSasBuilder
        {
            BlobContainerName = container.Name,
            Resource = "c",
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5), // clock skew between us and the storage service
            ExpiresOn = expiresAt,
            Protocol = container.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        builder.SetPermissions(BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write | BlobContainerSasPermissions.List);
        if (container.CanGenerateSasUri)
        {
            return new StagingCredential(container.GenerateSasUri(builder), expiresAt);
        }

        var service = container.GetParentBlobServiceClient();
        var key = await service.GetUserDelegationKeyAsync(builder.StartsOn, expiresAt, cancellationToken);
        var sas = builder.ToSasQueryParameters(key.Value, service.AccountName);
        return new StagingCredential(new UriBuilder(container.Uri) { Query = sas.ToString() }.Uri, expiresAt);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        try
        {
            // One GET streamed as it arrives (the SDK resumes it at the right offset after a network error), rather
            // than OpenRead's properties request followed by ranged reads: a round trip less per instance.
            var download = await container.GetBlobClient(blobName).DownloadStreamingAsync(cancellationToken: cancellationToken);
            return download.Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new StagedBlobMissingException("A staged instance is missing from staging.", ex);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenHeadAsync(string blobName, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        try
        {
            // A ranged GET: the header of an instance without its pixels.
            var download = await container.GetBlobClient(blobName).DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(0, maxBytes) }, cancellationToken);
            return download.Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new StagedBlobMissingException("A staged instance is missing from staging.", ex);
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            return Stream.Null; // an empty blob: nothing to read
        }
    }

    /// <inheritdoc />
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var deleted = 0;
        // A few deletes at a time: one by one, a study's cleanup costs a round trip per instance before it is reported stored.
        await Parallel.ForEachAsync(container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (blob, ct) =>
        {
            var response = await container.DeleteBlobIfExistsAsync(blob.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
            if (response.Value)
            {
                Interlocked.Increment(ref deleted);
            }
        });

        return deleted;
    }
}

/// <summary>A blob the manifest names is not in staging (deleted, or never uploaded).</summary>
public sealed class StagedBlobMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StagedBlobMissingException() : base("A staged instance is missing.") { }

    /// <summary>Creates the exception with a message.</summary>
    public StagedBlobMissingException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public StagedBlobMissingException(string message, Exception innerException) : base(message, innerException) { }
}
