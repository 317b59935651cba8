using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Staging;

/// <summary>What staging already holds for one instance (read from the blob listing and its metadata).</summary>
public sealed record StagedBlob(string SeriesInstanceUid, string SopInstanceUid, string BlobName, long SizeBytes, string Sha256);

/// <summary>A staging upload failed; <see cref="Reason"/> says whether the credential or the service is at fault.</summary>
public sealed class StagingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StagingException(FailureReason reason, string safeMessage, Exception? innerException = null)
        : base(safeMessage, innerException)
    {
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public StagingException()
        : this(FailureReason.StagingFailed, "Staging failed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StagingException(string message)
        : this(FailureReason.StagingFailed, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public StagingException(string message, Exception innerException)
        : this(FailureReason.StagingFailed, message, innerException)
    {
    }

    /// <summary>CredentialExpired or StagingFailed.</summary>
    public FailureReason Reason { get; }
}

/// <summary>
/// The staging destination of one retrieval, reached only through the command's SAS URL (the relay holds no
/// standing blob rights). Needs SAS permissions <c>c</c> (create), <c>w</c> (write blocks) and <c>l</c> (list,
/// for resuming); never read or delete. Blobs are <c>&lt;prefix&gt;/&lt;SOPInstanceUID&gt;.dcm</c> with metadata
/// <c>sha256</c> and <c>seriesuid</c>; uploads never overwrite (If-None-Match: *), so a duplicate is ignored.
/// </summary>
public sealed class StagingTarget
{
    private const string Sha256Key = "sha256";
    private const string SeriesKey = "seriesuid";
    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private readonly DateTimeOffset _expiresAt;
    private readonly TimeProvider _time;

    private StagingTarget(BlobContainerClient container, string prefix, DateTimeOffset expiresAt, TimeProvider time)
    {
        _container = container;
        _prefix = prefix.TrimEnd('/');
        _expiresAt = expiresAt;
        _time = time;
    }

    /// <summary>Opens the destination of a command; checks the credential's shape and declared expiry first.</summary>
    public static StagingTarget Open(RetrieveStudyCommand command, TimeProvider time, Azure.Core.Pipeline.HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        var credential = command.Credential;
        if (credential.ExpiresAt <= time.GetUtcNow())
        {
            throw new StagingException(FailureReason.CredentialExpired, "The staging credential expired before the retrieval started.");
        }

        if (string.IsNullOrEmpty(credential.SasUrl.Query) || !credential.SasUrl.Query.Contains("sig=", StringComparison.Ordinal))
        {
            throw new StagingException(FailureReason.InvalidCommand, "The staging credential is not a SAS URL.");
        }

        var options = new BlobClientOptions { Retry = { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(200) } };
        if (transport is not null)
        {
            options.Transport = transport;
        }

        var container = new BlobContainerClient(credential.SasUrl, options);
        if (!string.Equals(container.Name, command.Destination.Container, StringComparison.Ordinal))
        {
            throw new StagingException(FailureReason.InvalidCommand, "The staging credential is not for the destination container.");
        }

        return new StagingTarget(container, command.Destination.Prefix, credential.ExpiresAt, time);
    }

    /// <summary>Blob name of an instance.</summary>
    public string BlobNameOf(string sopInstanceUid) => $"{_prefix}/{sopInstanceUid}.dcm";

    /// <summary>Everything already staged under the prefix (what a resumed retrieval can skip).</summary>
    public async Task<IReadOnlyDictionary<string, StagedBlob>> ListAsync(CancellationToken cancellationToken)
    {
        var staged = new Dictionary<string, StagedBlob>(StringComparer.Ordinal);
        try
        {
            await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = _prefix + "/" }, cancellationToken))
            {
                var name = blob.Name;
                if (!name.EndsWith(".dcm", StringComparison.Ordinal) || blob.Metadata is null ||
                    !blob.Metadata.TryGetValue(Sha256Key, out var sha) || !blob.Metadata.TryGetValue(SeriesKey, out var series))
                {
                    continue; // not ours, or not committed with its hash: fetch again
                }

                var sop = name[(_prefix.Length + 1)..^4];
                staged[sop] = new StagedBlob(series, sop, name, blob.Properties.ContentLength ?? 0, sha);
            }
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "list");
        }
        catch (AggregateException ex) when (IsStorageUnreachable(ex))
        {
            throw Unreachable(ex, "list");
        }

        return staged;
    }

    /// <summary>Uploads one instance from <paramref name="content"/> (block upload); false when it already existed.</summary>
    public async Task<bool> UploadAsync(string seriesInstanceUid, string sopInstanceUid, Stream content, string sha256, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlockBlobClient(BlobNameOf(sopInstanceUid));
        try
        {
            await blob.UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [Sha256Key] = sha256, [SeriesKey] = seriesInstanceUid },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/dicom" },
                TransferOptions = new Azure.Storage.StorageTransferOptions { InitialTransferSize = 4 * 1024 * 1024, MaximumTransferSize = 4 * 1024 * 1024, MaximumConcurrency = 2 },
            }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409 || ex.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            return false;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "upload");
        }
        catch (AggregateException ex) when (IsStorageUnreachable(ex))
        {
            throw Unreachable(ex, "upload");
        }
    }

    // The SDK gives up on network errors (connection refused, reset) with an AggregateException of its attempts; left
    // as is, the socket error inside would be reported as the PACS being unreachable.
    private static bool IsStorageUnreachable(AggregateException ex) => ex.InnerExceptions.All(e => e is RequestFailedException);

    private static StagingException Unreachable(AggregateException ex, string operation) =>
        new(FailureReason.StagingFailed, $"Staging {operation} failed: the storage account could not be reached after {ex.InnerExceptions.Count} attempt(s).", ex);

    private StagingException Translate(RequestFailedException ex, string operation)
    {
        if (ex.Status == 403)
        {
            // A missing permission is reported as such; any other refusal (expired, bad signature) means the credential is no longer usable.
            var expired = _time.GetUtcNow() >= _expiresAt || ex.ErrorCode != "AuthorizationPermissionMismatch";
            return expired
                ? new StagingException(FailureReason.CredentialExpired, $"Staging refused the credential during {operation} (expired or invalid signature).", ex)
                : new StagingException(FailureReason.StagingFailed, $"The staging credential lacks the permission to {operation} (needs create, write and list).", ex);
        }

        return new StagingException(FailureReason.StagingFailed, $"Staging {operation} failed with HTTP {ex.Status} ({ex.ErrorCode}).", ex);
    }
}
