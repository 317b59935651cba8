using System.Security.Cryptography;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Web.Http;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// The StoreStudy activity: STOW-RS of every staged instance still to send, each checked as it is read from staging
/// (<see cref="StagedInstanceInspector"/>: the selected study, the relay's manifest, the registration's patient; then its
/// size and SHA-256). An instance that fails its check is never sent: the request is aborted, the study fails with its
/// reason and nothing of it is kept in the DICOM service. Then QIDO-RS verifies that every instance of the manifest is
/// there while the staging blobs are deleted beside it (the manifest list is kept until the study is removed: a re-run needs it). Idempotent: instances already in the DICOM service are skipped, so a re-run after a crash
/// sends only what is missing, and the result event id is derived from the command id.
/// </summary>
public sealed class StoreStudyActivityRunner(
    IStagingStore staging,
    IStagedInstanceListStore lists,
    IDicomStore dicom,
    IDicomInventory inventory,
    StagedInstanceInspector inspector,
    RuntimeOptions options,
    FaultInjection faults,
    TimeProvider time,
    ILogger<StoreStudyActivityRunner> logger)
{
    /// <summary>Runs the activity; returns <see cref="StoreStudyCompleted"/> or <see cref="StoreStudyFailed"/>. Transient failures throw (the engine retries the activity).</summary>
    public async Task<OrchestrationEvent> RunAsync(StoreStudyActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var phases = new StorePhases(time);

        // The manifest list and what the DICOM service already holds are independent: both asked at once.
        var reading = ReadManifestAsync(command.Manifest, cancellationToken);
        var asking = inventory.InstancesOfStudyAsync(command.StudyInstanceUid, cancellationToken);
        await Task.WhenAll(reading, asking);
        var (manifest, unreadable) = await reading;
        if (manifest is null)
        {
            return Failed(command, unreadable!);
        }

        if (manifest.DistinctBy(i => i.SopInstanceUid, StringComparer.Ordinal).Count() != manifest.Count)
        {
            return Failed(command, "The relay's manifest lists an instance twice.", StoreFailureCodes.UnexpectedInstance);
        }

        var present = await asking;
        var missing = manifest.Where(i => !present.Contains(i.SopInstanceUid)).ToList();
        phases.Lap(ref phases.Inventory);
        var sentAny = false;
        try
        {
            var batchIndex = 0;
            foreach (var batch in missing.Chunk(Math.Max(1, options.StoreBatchSize)))
            {
                sentAny = true;
                var result = await dicom.StoreAsync(command.StudyInstanceUid, [.. batch.Select(instance => Opener(command, instance))], cancellationToken);
                if (result.Failed > 0)
                {
                    logger.LogWarning("Registration {RegistrationId}: STOW-RS refused {Failed} of {Count} instance(s).", command.RegistrationId, result.Failed, batch.Length);
                }

                if (++batchIndex == 1 && missing.Count > batch.Length)
                {
                    faults.Hit(FaultPoint.CrashMidStore);
                }
            }

            phases.Lap(ref phases.Stow);
        }
        catch (StagedInstanceRefusedException refused)
        {
            // What was stored before (earlier batches, the retrieval's early stores) goes too: nothing of a study that failed its checks is kept.
            await RemoveStoredAsync(command, present.Count > 0 || sentAny, cancellationToken);
            return Failed(command, refused.Message, refused.FailureCode);
        }
        catch (StagedInstanceMismatchException ex)
        {
            await RemoveStoredAsync(command, present.Count > 0 || sentAny, cancellationToken);
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

        // Every batch was accepted, so staging has served whatever the verification finds: a study missing instances
        // fails for good and a new attempt stages again. The cleanup runs beside the QIDO-RS, off the critical path.
        var verifying = VerifyAsync();
        var cleaning = CleanAsync();
        await Task.WhenAll(verifying, cleaning);
        var stored = await verifying;
        var absent = manifest.Count(i => !stored.Contains(i.SopInstanceUid));
        if (absent > 0)
        {
            return Failed(command, $"{absent} of {manifest.Count} instance(s) are not in the DICOM service after STOW-RS.");
        }

        logger.LogInformation("Registration {RegistrationId}: study stored ({Count} instances, {Sent} sent now) in {Inventory}+{Stow}+max({Verify}, {Cleanup}) ms (manifest list and inventory, checked STOW-RS, then verification beside staging cleanup).", command.RegistrationId, manifest.Count, missing.Count, phases.Inventory, phases.Stow, phases.Verify, phases.Cleanup);
        return new StoreStudyCompleted(command.CommandId + "/completed", time.GetUtcNow(), command.CommandId, command.StudyInstanceUid, manifest.Count, missing.Count, manifest.Count - absent);

        async Task<IReadOnlySet<string>> VerifyAsync()
        {
            var held = await inventory.InstancesOfStudyAsync(command.StudyInstanceUid, cancellationToken);
            phases.Verify = phases.SinceLap();
            return held;
        }

        async Task CleanAsync()
        {
            await staging.DeletePrefixAsync(command.StagingPrefix, cancellationToken);
            phases.Cleanup = phases.SinceLap();
        }
    }

    /// <summary>
    /// Stores instances staged while their retrieval goes on, each checked as it is read (one refused stops its batch).
    /// Never fails the study and never throws but for cancellation: anything not stored here (refused by its check or by
    /// the service, staging or DICOM service
    /// unavailable, blobs already removed by a deletion or a completed store) is sent, or failed with its reason, by the
    /// study's StoreStudy activity, which checks again. So a late re-run by the engine does no harm either.
    /// </summary>
    public async Task StoreStagedAsync(StoreStagedInstancesActivity command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var stored = 0;
        try
        {
            var instances = await lists.ReadAsync(command.Instances, cancellationToken);
            if (instances.DistinctBy(i => i.SopInstanceUid, StringComparer.Ordinal).Count() != instances.Count)
            {
                return; // the study's store refuses such a manifest
            }

            foreach (var batch in instances.Chunk(Math.Max(1, options.StoreBatchSize)))
            {
                var result = await dicom.StoreAsync(command.StudyInstanceUid, [.. batch.Select(instance => Opener(command.SiteId, command.StagingPrefix, instance, command.StudyInstanceUid, command.ExpectedPatient))], cancellationToken);
                stored += result.Stored + result.AlreadyPresent;
            }

            logger.LogDebug("Registration {RegistrationId}: {Stored} of {Count} staged instance(s) stored during the retrieval.", command.RegistrationId, stored, instances.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception type only: messages may quote a service. The final StoreStudy covers what is missing.
            logger.LogWarning("Registration {RegistrationId}: storing {Count} staged instance(s) during the retrieval stopped after {Stored} ({Error}); the study's store will send the rest.", command.RegistrationId, command.Instances.Count, stored, ex.GetType().Name);
        }
    }

    // The manifest list, or why it cannot be used (the study's failure); transient storage errors throw.
    private async Task<(IReadOnlyList<StagedInstance>? Manifest, string? Unreadable)> ReadManifestAsync(StagedInstanceListReference reference, CancellationToken cancellationToken)
    {
        try
        {
            return (await lists.ReadAsync(reference, cancellationToken), null);
        }
        catch (StagedInstanceListMismatchException ex)
        {
            return (null, ex.Message);
        }
    }

    private async Task RemoveStoredAsync(StoreStudyActivity command, bool anyStored, CancellationToken cancellationToken)
    {
        if (anyStored)
        {
            await dicom.DeleteStudyAsync(command.StudyInstanceUid, cancellationToken);
        }
    }

    private StoreStudyFailed Failed(StoreStudyActivity command, string safeMessage, string? code = null)
    {
        logger.LogWarning("Registration {RegistrationId}: store failed: {Code}: {Reason}", command.RegistrationId, code ?? StoreFailureCodes.StoreFailed, safeMessage);
        return new StoreStudyFailed(command.CommandId + "/failed", time.GetUtcNow(), command.CommandId, command.StudyInstanceUid, safeMessage, code);
    }

    private static string BlobNameOf(string prefix, StagedInstance instance) =>
        instance.BlobName.StartsWith(prefix, StringComparison.Ordinal) ? instance.BlobName : prefix + instance.BlobName;

    private Func<CancellationToken, Task<Stream>> Opener(StoreStudyActivity command, StagedInstance instance) =>
        Opener(command.SiteId, command.StagingPrefix, instance, command.StudyInstanceUid, command.ExpectedPatient);

    // Opened when the STOW-RS request reaches the instance (the next one while it streams): checked from the same read.
    private Func<CancellationToken, Task<Stream>> Opener(string siteId, string prefix, StagedInstance instance, string studyInstanceUid, PatientIdentity patient) => cancellationToken =>
        inspector.OpenCheckedAsync(siteId, BlobNameOf(prefix, instance), instance, studyInstanceUid, patient, cancellationToken);
}

/// <summary>How long each phase of a store took, in milliseconds (logged: where a study's store spends its time).</summary>
internal sealed class StorePhases(TimeProvider time)
{
    private long _lapStarted = time.GetTimestamp();
    public long Inventory;
    public long Stow;
    public long Verify;
    public long Cleanup;

    /// <summary>Milliseconds since the last lap, without starting a new one (phases that run side by side).</summary>
    public long SinceLap() => (long)time.GetElapsedTime(_lapStarted).TotalMilliseconds;

    public void Lap(ref long phase)
    {
        var now = time.GetTimestamp();
        phase = (long)time.GetElapsedTime(_lapStarted, now).TotalMilliseconds;
        _lapStarted = now;
    }
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
internal sealed class VerifyingStream(Stream inner, long expectedLength, string expectedSha256) : ObservedReadStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public override long Length => expectedLength;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override void Observe(ReadOnlySpan<byte> chunk)
    {
        if (BytesRead > expectedLength)
        {
            throw new StagedInstanceMismatchException("A staged instance is larger than its manifest entry.");
        }

        _hash.AppendData(chunk);
        if (chunk.Length == 0 || BytesRead == expectedLength)
        {
            if (BytesRead != expectedLength)
            {
                throw new StagedInstanceMismatchException("A staged instance is shorter than its manifest entry.");
            }

            Span<byte> digest = stackalloc byte[32];
            _hash.GetCurrentHash(digest);
            if (!string.Equals(Convert.ToHexStringLower(digest), expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new StagedInstanceMismatchException("A staged instance's SHA-256 differs from its manifest entry.");
            }
        }
    }
}
