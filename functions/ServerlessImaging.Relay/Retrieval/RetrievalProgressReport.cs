using System.Collections.Concurrent;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Retrieval;

/// <summary>
/// What the next progress event of one retrieval says: the latest counts, plus the instances staged since the previous
/// event. An event is due when <c>batchSize</c> staged instances wait (the cloud stores them while the transfer goes on)
/// or, at the progress interval, when anything changed. Thread-safe: upload workers add, one reporting loop takes.
/// </summary>
public sealed class RetrievalProgressReport(string studyInstanceUid, int batchSize)
{
    /// <summary>Most staged instances one event lists (keeps the event well under the queue's inline size).</summary>
    public const int MaxStagedPerEvent = 100;

    private readonly ConcurrentQueue<StagedInstance> _staged = new();
    private RetrievalStatus? _latest;
    private RetrievalStatus? _sent;

    /// <summary>Staged instances not yet reported.</summary>
    public int Waiting => _staged.Count;

    /// <summary>Records the latest counts.</summary>
    public void Update(RetrievalStatus status) => Volatile.Write(ref _latest, status);

    /// <summary>Records an instance whose upload completed (ignored when staged lists are off).</summary>
    public void Staged(StagedInstance instance)
    {
        if (batchSize > 0)
        {
            _staged.Enqueue(instance);
        }
    }

    /// <summary>The next event, or null when none is due. <paramref name="intervalElapsed"/>: the progress interval passed since the last one.</summary>
    public RetrievalProgress? Next(bool intervalElapsed)
    {
        var batchReady = batchSize > 0 && _staged.Count >= batchSize;
        var latest = Volatile.Read(ref _latest);
        if (!batchReady && !(intervalElapsed && (!_staged.IsEmpty || (latest is not null && latest != _sent))))
        {
            return null;
        }

        var staged = new List<StagedInstance>(Math.Min(_staged.Count, MaxStagedPerEvent));
        while (staged.Count < MaxStagedPerEvent && _staged.TryDequeue(out var instance))
        {
            staged.Add(instance);
        }

        // The counts come from the transfer's own sampling and may lag the staged list by a tick; they are for display.
        var status = latest ?? new RetrievalStatus(0, 0, 0);
        _sent = latest;
        return new RetrievalProgress(studyInstanceUid, status.InstancesDone, status.InstancesTotal, status.BytesDone, staged.Count > 0 ? staged : null);
    }
}
