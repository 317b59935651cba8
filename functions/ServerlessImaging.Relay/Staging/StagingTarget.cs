using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Staging;

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
/// standing blob rights). Needs SAS permissions <c>c</c> (create) and <c>w</c> (write blocks) only: never list, read
/// or delete, so a relay cannot see what staging holds (what it staged before is in its own
/// <see cref="StagingJournals"/>). Blobs are <c>&lt;prefix&gt;/&lt;SOPInstanceUID&gt;.dcm</c> with metadata
/// <c>sha256</c> and <c>seriesuid</c>; uploads never overwrite (If-None-Match: *), so an existing blob is reported,
/// not replaced.
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

    /// <summary>
    /// Uploads one instance from <paramref name="content"/> (block upload); false when the blob already existed. In a
    /// site's own container only that site's relay can create blobs, so an existing one is an earlier upload of this
    /// relay (one its journal missed: a crash between upload and record, a lost spool, a retried request whose first
    /// try went through).
    /// </summary>
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
        catch (RequestFailedException ex) when (ex.Status == 409 || ex.ErrorCode == BlobErrorCode.BlobAlreadyExists || ex.ErrorCode == BlobErrorCode.ConditionNotMet)
        {
            // 409 for a single-shot Put Blob; a conditional Put Block List may answer 412 instead: either way it exists.
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
                : new StagingException(FailureReason.StagingFailed, $"The staging credential lacks the permission to {operation} (needs create and write).", ex);
        }

        return new StagingException(FailureReason.StagingFailed, $"Staging {operation} failed with HTTP {ex.Status} ({ex.ErrorCode}).", ex);
    }
}
