using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Spool;
using ServerlessImaging.Relay.Staging;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// Destination of one retrieval's instances (C-GET sub-operations, or C-MOVE arrivals routed by the SCP):
/// each expected, not-yet-staged instance is written as Part 10 (meta + data set as received), hashed while it
/// arrives, and handed to upload workers as soon as it is complete, so uploads run while the transfer goes on.
/// Unexpected instances are refused; instances the journal already records are received and dropped (duplicates
/// ignored). Each instance that reaches staging (uploaded, or found there: 409) is recorded in the journal, then
/// announced (<c>onStaged</c>), so the cloud can store it before the retrieval ends.
/// </summary>
internal sealed class StagingSink : IInstanceSink, IAsyncDisposable
{
    private readonly StagingTarget _target;
    private readonly SpoolJournal<StagedInstance> _journal;
    private readonly IReadOnlyDictionary<string, string> _seriesBySop;
    private readonly IReadOnlySet<string> _alreadyStaged;
    private readonly ConcurrentDictionary<string, byte> _received = new(StringComparer.Ordinal);
    private readonly SpoolBudget _budget;
    private readonly RelayMetrics _metrics;
    private readonly Channel<PendingInstance> _uploads;
    private readonly CancellationTokenSource _abort;
    private readonly Task[] _workers;
    private readonly Action<StagedInstance>? _onStaged;
    private Exception? _failure;
    private int _uploaded;
    private int _existing;
    private int _duplicates;
    private long _bytesStaged;

    public StagingSink(StagingTarget target, SpoolJournal<StagedInstance> journal, IReadOnlyDictionary<string, string> seriesBySop, IReadOnlySet<string> alreadyStaged, SpoolBudget budget, int uploadConcurrency, RelayMetrics metrics, Action<StagedInstance>? onStaged, CancellationToken cancellationToken)
    {
        _onStaged = onStaged;
        _target = target;
        _journal = journal;
        _seriesBySop = seriesBySop;
        _alreadyStaged = alreadyStaged;
        _budget = budget;
        _metrics = metrics;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Bounded: a receiver waits when uploads fall behind, the budget decides memory vs spool for what waits.
        _uploads = Channel.CreateBounded<PendingInstance>(new BoundedChannelOptions(uploadConcurrency * 4) { SingleWriter = false, SingleReader = false });
        _workers = Enumerable.Range(0, uploadConcurrency).Select(_ => Task.Run(UploadLoopAsync)).ToArray();
    }

    /// <summary>Instances uploaded by this run.</summary>
    public int Uploaded => Volatile.Read(ref _uploaded);

    /// <summary>Instances this run uploaded again that staging already held (409).</summary>
    public int Existing => Volatile.Read(ref _existing);

    /// <summary>Instances this run put in staging or found there.</summary>
    public int Staged => Uploaded + Existing;

    /// <summary>Bytes of <see cref="Staged"/>.</summary>
    public long BytesStaged => Interlocked.Read(ref _bytesStaged);

    /// <summary>Instances received twice, or that the journal already recorded: dropped.</summary>
    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Cancelled when an upload fails: the retrieval stops early.</summary>
    public CancellationToken Aborted => _abort.Token;

    /// <summary>True when this sink expects the instance (the C-MOVE router asks before routing).</summary>
    public bool Expects(string sopInstanceUid) => _seriesBySop.ContainsKey(sopInstanceUid);

    public ValueTask<IInstanceWriter> OpenAsync(IncomingInstance instance, CancellationToken ct)
    {
        if (!_seriesBySop.TryGetValue(instance.SopInstanceUid, out var series))
        {
            // 0xA900: the data set does not belong to what was asked for.
            throw new InstanceRejectedException(0xA900, "Instance is not part of the requested retrieval.");
        }

        if (_alreadyStaged.Contains(instance.SopInstanceUid) || !_received.TryAdd(instance.SopInstanceUid, 0))
        {
            Interlocked.Increment(ref _duplicates);
            return ValueTask.FromResult<IInstanceWriter>(new DiscardingWriter(instance));
        }

        var pending = new PendingInstance(_budget, series, instance.SopInstanceUid);
        return ValueTask.FromResult<IInstanceWriter>(new Writer(this, instance, pending));
    }

    /// <summary>Waits for every upload; throws the first upload failure.</summary>
    public async Task DrainAsync()
    {
        _uploads.Writer.TryComplete();
        await Task.WhenAll(_workers);
        if (_failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
        }
    }

    /// <summary>The first upload failure, if any.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public async ValueTask DisposeAsync()
    {
        _uploads.Writer.TryComplete();
        await _abort.CancelAsync();
        try
        {
            await Task.WhenAll(_workers);
        }
        catch (OperationCanceledException)
        {
        }

        while (_uploads.Reader.TryRead(out var left))
        {
            await left.DisposeAsync();
        }

        _abort.Dispose();
    }

    private async Task UploadLoopAsync()
    {
        await foreach (var pending in _uploads.Reader.ReadAllAsync(CancellationToken.None))
        {
            await using (pending)
            {
                if (_abort.IsCancellationRequested)
                {
                    continue;
                }

                try
                {
                    var content = await pending.SealAsync(_abort.Token);
                    var created = await _target.UploadAsync(pending.SeriesInstanceUid, pending.SopInstanceUid, content, pending.Sha256, _abort.Token);
                    // Recorded either way: a 409 is this relay's own earlier upload of the same bytes (only its credential
                    // writes the site's container, and the Part 10 encoding is deterministic), so the local hash is the blob's.
                    var staged = new StagedInstance(pending.SeriesInstanceUid, pending.SopInstanceUid, _target.BlobNameOf(pending.SopInstanceUid), pending.Length, pending.Sha256);
                    await _journal.AppendAsync(staged, CancellationToken.None);
                    if (created)
                    {
                        Interlocked.Increment(ref _uploaded);
                        _metrics.InstanceStaged(pending.Length);
                    }
                    else
                    {
                        Interlocked.Increment(ref _existing);
                        _metrics.InstanceAlreadyInStaging();
                    }

                    Interlocked.Add(ref _bytesStaged, pending.Length);
                    _onStaged?.Invoke(staged);
                }
                catch (Exception ex)
                {
                    if (Interlocked.CompareExchange(ref _failure, ex, null) is null)
                    {
                        await _abort.CancelAsync();
                    }
                }
            }
        }
    }

    private sealed class Writer(StagingSink owner, IncomingInstance instance, PendingInstance pending) : IInstanceWriter
    {
        private bool _handedOver;

        public async ValueTask WriteAsync(ReadOnlySequence<byte> dataSetBytes, CancellationToken ct)
        {
            if (pending.Length == 0)
            {
                await pending.WriteAsync(Part10Header.Encode(new FileMetaInfo(instance.SopClassUid, instance.SopInstanceUid, instance.TransferSyntaxUid), instance.CallingAeTitle), ct);
            }

            await pending.WriteAsync(dataSetBytes, ct);
        }

        public async ValueTask<StoredInstance> CommitAsync(CancellationToken ct)
        {
            if (owner._abort.IsCancellationRequested)
            {
                throw new InstanceRejectedException(DimseStatus.ProcessingFailure, "The retrieval was stopped.");
            }

            if (pending.Length == 0)
            {
                await pending.WriteAsync(Part10Header.Encode(new FileMetaInfo(instance.SopClassUid, instance.SopInstanceUid, instance.TransferSyntaxUid), instance.CallingAeTitle), ct);
            }

            var length = pending.Length;
            await owner._uploads.Writer.WriteAsync(pending, ct);
            _handedOver = true;
            return new StoredInstance(instance, owner._target.BlobNameOf(instance.SopInstanceUid), length);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_handedOver)
            {
                owner._received.TryRemove(instance.SopInstanceUid, out _);
                await pending.DisposeAsync();
            }
        }
    }

    private sealed class DiscardingWriter(IncomingInstance instance) : IInstanceWriter
    {
        private long _bytes;

        public ValueTask WriteAsync(ReadOnlySequence<byte> dataSetBytes, CancellationToken ct)
        {
            _bytes += dataSetBytes.Length;
            return ValueTask.CompletedTask;
        }

        public ValueTask<StoredInstance> CommitAsync(CancellationToken ct) =>
            ValueTask.FromResult(new StoredInstance(instance, "duplicate", _bytes));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
