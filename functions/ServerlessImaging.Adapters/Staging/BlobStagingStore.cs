using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Staging;

/// <summary>
/// Staging between relays and the store activity: one container per site (<see cref="ResourceNames.StagingContainerFor"/>,
/// or a test's own names). A relay gets, per command, a short-lived SAS on its own site's container with create + write
/// only: it cannot list, read or delete anything, nor reach another site's container. In Azure the SAS is a
/// user-delegation SAS signed with the app's managed identity; locally a service SAS signed with the account key.
/// </summary>
/// <param name="blobs">The storage account's blob service.</param>
/// <param name="siteIds">The sites (each has its container); deleting a prefix covers all of them.</param>
/// <param name="containerOf">A site's container name (tests give each run containers of its own).</param>
public sealed class BlobStagingStore(BlobServiceClient blobs, IReadOnlyList<string> siteIds, Func<string, string> containerOf) : IStagingStore
{
    /// <summary>Staging with the production container names.</summary>
    public BlobStagingStore(BlobServiceClient blobs, IReadOnlyList<string> siteIds)
        : this(blobs, siteIds, ResourceNames.StagingContainerFor)
    {
    }

    /// <inheritdoc />
    public string ContainerOf(string siteId) => containerOf(Known(siteId));

    /// <summary>Creates every site's container (local stacks only; Bicep creates them in Azure).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        foreach (var site in siteIds)
        {
            await blobs.GetBlobContainerClient(containerOf(site)).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<StagingCredential> CreateWriteCredentialAsync(string siteId, string prefix, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var container = Container(siteId);
        var builder = new BlobSasBuilder
        {
            BlobContainerName = container.Name,
            Resource = "c",
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5), // clock skew between us and the storage service
            ExpiresOn = expiresAt,
            Protocol = container.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        builder.SetPermissions(BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write);
        if (container.CanGenerateSasUri)
        {
            return new StagingCredential(container.GenerateSasUri(builder), expiresAt);
        }

        var key = await blobs.GetUserDelegationKeyAsync(builder.StartsOn, expiresAt, cancellationToken);
        var sas = builder.ToSasQueryParameters(key.Value, blobs.AccountName);
        return new StagingCredential(new UriBuilder(container.Uri) { Query = sas.ToString() }.Uri, expiresAt);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string siteId, string blobName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blobName);
        try
        {
            // One GET streamed as it arrives (the SDK resumes it at the right offset after a network error), rather
            // than OpenRead's properties request followed by ranged reads: a round trip less per instance.
            var download = await Container(siteId).GetBlobClient(blobName).DownloadStreamingAsync(cancellationToken: cancellationToken);
            return download.Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new StagedBlobMissingException("A staged instance is missing from staging.", ex);
        }
    }

    /// <inheritdoc />
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var deleted = 0;
        foreach (var site in siteIds)
        {
            var container = blobs.GetBlobContainerClient(containerOf(site));
            try
            {
                // A few deletes at a time: one by one, a study's cleanup costs a round trip per instance before it is reported stored.
                await Parallel.ForEachAsync(container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (blob, ct) =>
                {
                    var response = await container.DeleteBlobIfExistsAsync(blob.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);
                    if (response.Value)
                    {
                        Interlocked.Increment(ref deleted);
                    }
                });
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // A site whose container was never created staged nothing.
            }
        }

        return deleted;
    }

    private BlobContainerClient Container(string siteId) => blobs.GetBlobContainerClient(containerOf(Known(siteId)));

    private string Known(string siteId) =>
        siteIds.Contains(siteId, StringComparer.Ordinal) ? siteId : throw new ArgumentException("Not a configured site.", nameof(siteId));
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
