namespace ServerlessImaging.Messaging.Deduplication;

/// <summary>
/// A bounded, thread-safe set of recently processed message ids. Queues deliver at least once, so a
/// consumer checks <see cref="TryBegin"/> before acting and <see cref="Forget"/>s an id whose handling
/// failed (so a redelivery is handled again). The oldest ids are evicted first once <c>capacity</c> is reached:
/// it bounds memory, so it catches duplicates that arrive close together (the common case: a lease expiring
/// during a slow handler); handlers stay idempotent for the rest.
/// </summary>
public sealed class ProcessedMessageIds
{
    private readonly int _capacity;
    private readonly Dictionary<string, LinkedListNode<string>> _index;
    private readonly LinkedList<string> _order = new();
    private readonly Lock _gate = new();

    /// <summary>Creates the set.</summary>
    public ProcessedMessageIds(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _index = new Dictionary<string, LinkedListNode<string>>(capacity, StringComparer.Ordinal);
    }

    /// <summary>Number of ids remembered.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _index.Count;
            }
        }
    }

    /// <summary>Records <paramref name="messageId"/>; false when it was already recorded (a duplicate).</summary>
    public bool TryBegin(string messageId)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        lock (_gate)
        {
            if (_index.ContainsKey(messageId))
            {
                return false;
            }

            if (_index.Count >= _capacity)
            {
                var oldest = _order.First!;
                _order.RemoveFirst();
                _index.Remove(oldest.Value);
            }

            _index[messageId] = _order.AddLast(messageId);
            return true;
        }
    }

    /// <summary>True when the id is remembered.</summary>
    public bool Contains(string messageId)
    {
        lock (_gate)
        {
            return _index.ContainsKey(messageId);
        }
    }

    /// <summary>Forgets an id (its handling failed and a redelivery must be handled).</summary>
    public void Forget(string messageId)
    {
        lock (_gate)
        {
            if (_index.Remove(messageId, out var node))
            {
                _order.Remove(node);
            }
        }
    }
}
