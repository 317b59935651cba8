namespace ServerlessImaging.Cloud.Runtime;

/// <summary>A thread-safe set that forgets its oldest entries beyond <c>capacity</c> (first in, first out).</summary>
public sealed class RecentSet(int capacity)
{
    private readonly HashSet<string> members = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();
    private readonly Lock gate = new();

    /// <summary>True when <paramref name="item"/> is remembered.</summary>
    public bool Contains(string item)
    {
        lock (gate)
        {
            return members.Contains(item);
        }
    }

    /// <summary>Remembers <paramref name="item"/>, forgetting the oldest entry when full.</summary>
    public void Add(string item)
    {
        lock (gate)
        {
            if (!members.Add(item))
            {
                return;
            }

            order.Enqueue(item);
            if (order.Count > Math.Max(1, capacity))
            {
                members.Remove(order.Dequeue());
            }
        }
    }
}
