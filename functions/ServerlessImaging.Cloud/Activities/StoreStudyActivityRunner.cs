using System.Security.Cryptography;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// The StoreStudy activity: staged instances → STOW-RS (streamed from blobs, size and SHA-256 checked on the way),
/// then QIDO-RS to verify that every instance of the manifest is in the DICOM service, then the staging blobs are
/// deleted. Idempotent: instances already in the DICOM service are skipped, so a re-run after a crash sends only
/// what is missing, and the result event id is derived from the command id.
/// </summary>
public sealed class StoreStudyActivityRunner(
    IStagingStore staging,
    IDicomStore dicom,
    IDicomInventory inventory,
    RuntimeOptions options,
    FaultInjection faults,
    TimeProvider time,
    ILogger<StoreStudyActivityRunner> logger)
{
    /// <summary>Runs the activity; returns <see cref="StoreStudyCompleted"/> or <see cref="StoreStudyFailed"/>. Transient failures throw (the engine retries the activity).</summary>
    public async Task<OrchestrationEvent> RunAsync(StoreStudyActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var present = await inventory.InstancesOfStudyAsync(command.StudyInstanceUid, cancellationToken);
        var missing = command.Manifest.Where(i => !present.Contains(i.SopInstanceUid)).ToList();
        try
        {
            var batchIndex = 0;
            foreach (var batch in missing.Chunk(Math.Max(1, options.StoreBatchSize)))
            {
                var result = await dicom.StoreAsync([.. batch.Select(instance => Opener(command.StagingPrefix, instance))], cancellationToken);
                if (result.Failed > 0)
                {
                    logger.LogWarning("Registration {RegistrationId}: STOW-RS refused {Failed} of {Count} instance(s).", command.RegistrationId, result.Failed, batch.Length);
                }

                if (++batchIndex == 1 && missing.Count > batch.Length)
                {
                    faults.Hit(FaultPoint.CrashMidStore);
                }
            }
        }
        catch (StagedInstanceMismatchException ex)
        {
            return Failed(command, ex.Message);
        }
        catch (Adapters.Staging.StagedBlobMissingException)
        {
            return Failed(command, "A staged instance is missing from staging.");
        }
        catch (DicomWebException ex) when (ex.StatusCode is { } status && (int)status is >= 400 and < 500 and not 408 and not 429)
        {
            return Failed(command, $"The DICOM service refused the instances ({(int)status}).");
        }

        var stored = await inventory.InstancesOfStudyAsync(command.StudyInstanceUid, cancellationToken);
        var absent = command.Manifest.Count(i => !stored.Contains(i.SopInstanceUid));
        if (absent > 0)
        {
            return Failed(command, $"{absent} of {command.Manifest.Count} instance(s) are not in the DICOM service after STOW-RS.");
        }

        await staging.DeletePrefixAsync(command.StagingPrefix, cancellationToken);
        logger.LogInformation("Registration {RegistrationId}: study stored ({Count} instances, {Sent} sent now).", command.RegistrationId, command.Manifest.Count, missing.Count);
        return new StoreStudyCompleted(command.CommandId + "/completed", time.GetUtcNow(), command.CommandId, command.StudyInstanceUid, command.Manifest.Count, missing.Count, command.Manifest.Count - absent);
    }

    /// <summary>
    /// Stores instances staged while their retrieval goes on. Never fails the study and never throws but for
    /// cancellation: anything not stored here (refused, staging or DICOM service unavailable, blobs already removed by
    /// a deletion or a completed store) is sent, or failed with its reason, by the study's StoreStudy activity, which
    /// checks the DICOM service first. So a late re-run by the engine does no harm either.
    /// </summary>
    public async Task StoreStagedAsync(StoreStagedInstancesActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var stored = 0;
        try
        {
            foreach (var batch in command.Instances.Chunk(Math.Max(1, options.StoreBatchSize)))
            {
                var result = await dicom.StoreAsync([.. batch.Select(instance => Opener(command.StagingPrefix, instance))], cancellationToken);
                stored += result.Stored + result.AlreadyPresent;
            }

            logger.LogDebug("Registration {RegistrationId}: {Stored} of {Count} staged instance(s) stored during the retrieval.", command.RegistrationId, stored, command.Instances.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception type only: messages may quote a service. The final StoreStudy covers what is missing.
            logger.LogWarning("Registration {RegistrationId}: storing {Count} staged instance(s) during the retrieval stopped after {Stored} ({Error}); the study's store will send the rest.", command.RegistrationId, command.Instances.Count, stored, ex.GetType().Name);
        }
    }

    private StoreStudyFailed Failed(StoreStudyActivity command, string safeMessage)
    {
        logger.LogWarning("Registration {RegistrationId}: store failed: {Reason}", command.RegistrationId, safeMessage);
        return new StoreStudyFailed(command.CommandId + "/failed", time.GetUtcNow(), command.CommandId, command.StudyInstanceUid, safeMessage);
    }

    private Func<CancellationToken, Task<Stream>> Opener(string prefix, StagedInstance instance) => async cancellationToken =>
    {
        var name = instance.BlobName.StartsWith(prefix, StringComparison.Ordinal) ? instance.BlobName : prefix + instance.BlobName;
        return new VerifyingStream(await staging.OpenReadAsync(name, cancellationToken), instance.SizeBytes, instance.Sha256);
    };
}

/// <summary>A staged instance does not match its manifest entry (size or SHA-256).</summary>
public sealed class StagedInstanceMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StagedInstanceMismatchException() : base("A staged instance does not match the manifest.") { }

    /// <summary>Creates the exception with a message.</summary>
    public StagedInstanceMismatchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public StagedInstanceMismatchException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Passes a staged blob through while hashing it; at the end, a size or SHA-256 different from the manifest throws,
/// which aborts the STOW-RS request before the server sees a complete (corrupt) part.
/// </summary>
internal sealed class VerifyingStream(Stream inner, long expectedLength, string expectedSha256) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => expectedLength;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        _read += chunk.Length;
        if (_read > expectedLength)
        {
            throw new StagedInstanceMismatchException("A staged instance is larger than its manifest entry.");
        }

        _hash.AppendData(chunk);
        if (chunk.Length == 0 || _read == expectedLength)
        {
            if (_read != expectedLength)
            {
                throw new StagedInstanceMismatchException("A staged instance is shorter than its manifest entry.");
            }

            if (chunk.Length == 0 || _read == expectedLength)
            {
                Span<byte> digest = stackalloc byte[32];
                _hash.GetCurrentHash(digest);
                if (!string.Equals(Convert.ToHexStringLower(digest), expectedSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new StagedInstanceMismatchException("A staged instance's SHA-256 differs from its manifest entry.");
                }
            }
        }

        return chunk.Length;
    }
}
