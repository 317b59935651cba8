using System.Collections.Concurrent;

namespace ServerlessImaging.Relay.Commands;

/// <summary>
/// Commands in progress, so that a Cancel can stop the one it names — and only that one: a Cancel arriving before its
/// command started (the queue gives no order) is remembered, so the command stops as soon as it is tracked; one arriving
/// after its command ended changes nothing (it must never stop the registration's other commands).
/// </summary>
public sealed class RunningCommands
{
    // Enough for every command a relay could have queued meanwhile; the oldest are forgotten first.
    private const int RememberedCancels = 1024;

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly Queue<string> _cancelledOrder = new();
    private readonly HashSet<string> _cancelledBeforeStart = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Registers a command (cancelled at once if its Cancel came first); dispose the result when it ends.</summary>
    public IDisposable Track(string messageId, CancellationTokenSource cancel)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        lock (_gate)
        {
            _running[messageId] = cancel;
            if (_cancelledBeforeStart.Remove(messageId))
            {
                cancel.Cancel();
            }
        }

        return new Entry(this, messageId);
    }

    /// <summary>Cancels the command <paramref name="commandMessageId"/>; returns 1 when it was running, 0 when it is remembered for later.</summary>
    public int Cancel(string commandMessageId)
    {
        lock (_gate)
        {
            if (_running.TryGetValue(commandMessageId, out var running))
            {
                running.Cancel();
                return 1;
            }

            if (_cancelledBeforeStart.Add(commandMessageId))
            {
                _cancelledOrder.Enqueue(commandMessageId);
                while (_cancelledOrder.Count > RememberedCancels)
                {
                    _cancelledBeforeStart.Remove(_cancelledOrder.Dequeue());
                }
            }

            return 0;
        }
    }

    /// <summary>Number of running commands.</summary>
    public int Count => _running.Count;

    private sealed class Entry(RunningCommands owner, string id) : IDisposable
    {
        public void Dispose() => owner._running.TryRemove(id, out _);
    }
}
