using System.Collections.Concurrent;

namespace ServerlessImaging.Relay.Commands;

/// <summary>Commands in progress, so that a Cancel can stop them (by command message id, or all of one correlation id).</summary>
public sealed class RunningCommands
{
    private readonly ConcurrentDictionary<string, (string CorrelationId, CancellationTokenSource Cancel)> _running = new(StringComparer.Ordinal);

    /// <summary>Registers a command; dispose the result when it ends.</summary>
    public IDisposable Track(string messageId, string correlationId, CancellationTokenSource cancel)
    {
        _running[messageId] = (correlationId, cancel);
        return new Entry(this, messageId);
    }

    /// <summary>Cancels the command <paramref name="commandMessageId"/>, or, if it is not running, every command of <paramref name="correlationId"/>. Returns how many.</summary>
    public int Cancel(string commandMessageId, string correlationId)
    {
        if (_running.TryGetValue(commandMessageId, out var one))
        {
            one.Cancel.Cancel();
            return 1;
        }

        var count = 0;
        foreach (var entry in _running.Values.Where(e => string.Equals(e.CorrelationId, correlationId, StringComparison.Ordinal)))
        {
            entry.Cancel.Cancel();
            count++;
        }

        return count;
    }

    /// <summary>Number of running commands.</summary>
    public int Count => _running.Count;

    private sealed class Entry(RunningCommands owner, string id) : IDisposable
    {
        public void Dispose() => owner._running.TryRemove(id, out _);
    }
}
