using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Adapters.Staging;

/// <summary>
/// The app's lists of staged instances as block blobs in <see cref="ResourceNames.InstanceListsContainer"/> (or a test's
/// own container), named by <see cref="StagedInstanceList.Describe"/>: content-addressed, so a redelivered relay event
/// writes the same bytes under the same name. Reads check the SHA-256 before the list is used.
/// </summary>
/// <param name="container">The container (created by Bicep in Azure, by <see cref="EnsureCreatedAsync"/> locally).</param>
public sealed class BlobStagedInstanceListStore(BlobContainerClient container) : IStagedInstanceListStore
{
    /// <summary>Creates the container (local stacks only).</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) =>
        container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task<StagedInstanceListReference> SaveAsync(string registrationId, string studyInstanceUid, IReadOnlyList<StagedInstance> instances, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        ArgumentNullException.ThrowIfNull(studyInstanceUid);
        var (reference, content) = StagedInstanceList.Describe(registrationId, studyInstanceUid, instances);
        try
        {
            // Same name, same bytes: an existing blob is this list already.
            await container.GetBlobClient(reference.BlobName).UploadAsync(new BinaryData(content), overwrite: false, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
        }

        return reference;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StagedInstance>> ReadAsync(StagedInstanceListReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        try
        {
            var content = await container.GetBlobClient(reference.BlobName).DownloadContentAsync(cancellationToken);
            return StagedInstanceList.Read(reference, content.Value.Content.ToMemory().Span);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new StagedInstanceListMismatchException("The instance list is not there (removed with its study, or never kept).", ex);
        }
    }

    /// <inheritdoc />
    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var deleted = 0;
        try
        {
            await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken))
            {
                var response = await container.DeleteBlobIfExistsAsync(blob.Name, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);
                deleted += response.Value ? 1 : 0;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container: no list was ever kept.
        }

        return deleted;
    }
}
