using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.LocalRun;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>A queue message exactly as it was sent (bytes), and what it says when it is a readable envelope.</summary>
internal sealed record RawMessage(ReadOnlyMemory<byte> Body, MessageEnvelope? Envelope)
{
    public static RawMessage From(TransportMessage message)
    {
        var body = message.Body.ToArray();
        try
        {
            return new RawMessage(body, MessageCodec.Deserialize(body));
        }
        catch (MessageContractException)
        {
            // An offloaded body's pointer or anything else: forwarded unchanged, unread.
            return new RawMessage(body, null);
        }
    }
}

/// <summary>
/// Sits between the relays and the app: the relays post to their own queue, this forwards every event to the app's
/// queue twice and out of order — each group of events arriving together (or within a second) is sent newest first,
/// then again oldest first; progress reports are held back until after the retrieval they describe has completed.
/// Everything the relays sent is kept, to be replayed once more at the end.
/// </summary>
internal sealed class EventShuffler : IAsyncDisposable
{
    private static readonly TimeSpan PartnerWait = TimeSpan.FromSeconds(1);

    private readonly StorageQueueTransport transport;
    private readonly string from;
    private readonly Func<RawMessage, string> to;
    private readonly List<RawMessage> received = [];
    private readonly List<RawMessage> group = [];
    private readonly Dictionary<string, List<RawMessage>> heldProgress = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private DateTime groupStartedAt;

    public EventShuffler(string connectionString, string from, Func<RawMessage, string> to)
    {
        transport = new StorageQueueTransport(connectionString);
        this.from = from;
        this.to = to;
        loop = Task.Run(() => RunAsync(stop.Token));
    }

    /// <summary>Events the relays sent.</summary>
    public int Received { get; private set; }

    /// <summary>Copies sent beyond the first of each event.</summary>
    public int Duplicated { get; private set; }

    /// <summary>Events delivered after one that was sent later (group reversals and late progress).</summary>
    public int Reordered { get; private set; }

    /// <summary>Events sent again by <see cref="ReplayAllAsync"/>.</summary>
    public int Replayed { get; private set; }

    public IReadOnlyList<string> ReceivedTypes
    {
        get
        {
            lock (received)
            {
                return [.. received.Select(m => m.Envelope?.Type ?? "unreadable")];
            }
        }
    }

    /// <summary>Every event the relays sent, once more, newest first (late duplicates of a finished flow).</summary>
    public async Task<int> ReplayAllAsync()
    {
        List<RawMessage> all;
        lock (received)
        {
            all = [.. received.Where(m => m.Envelope?.Body is not Heartbeat)];
        }

        all.Reverse();
        foreach (var message in all)
        {
            await transport.SendAsync(to(message), message.Body, null, CancellationToken.None);
        }

        Replayed += all.Count;
        return all.Count;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await transport.EnsureQueueAsync(from, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var message in await transport.ReceiveAsync(from, 32, TimeSpan.FromSeconds(30), cancellationToken))
            {
                await TakeAsync(RawMessage.From(message), cancellationToken);
                await transport.CompleteAsync(message, cancellationToken);
            }

            if (group.Count >= 2 || (group.Count == 1 && DateTime.UtcNow - groupStartedAt >= PartnerWait))
            {
                await FlushGroupAsync(cancellationToken);
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task TakeAsync(RawMessage message, CancellationToken cancellationToken)
    {
        lock (received)
        {
            received.Add(message);
        }

        Received++;
        switch (message.Envelope?.Body)
        {
            case Heartbeat:
                await transport.SendAsync(to(message), message.Body, null, cancellationToken);
                break;
            case RetrievalProgress when message.Envelope.CausationId is { } command:
                if (!heldProgress.TryGetValue(command, out var held))
                {
                    heldProgress[command] = held = [];
                }

                held.Add(message);
                break;
            default:
                if (group.Count == 0)
                {
                    groupStartedAt = DateTime.UtcNow;
                }

                group.Add(message);
                break;
        }
    }

    private async Task FlushGroupAsync(CancellationToken cancellationToken)
    {
        var reversed = Enumerable.Reverse(group).ToList();
        foreach (var message in reversed)
        {
            await transport.SendAsync(to(message), message.Body, null, cancellationToken);
        }

        if (group.Count > 1)
        {
            Reordered += group.Count - 1;
        }

        foreach (var message in group)
        {
            await transport.SendAsync(to(message), message.Body, null, cancellationToken);
            Duplicated++;
        }

        // Progress of a retrieval that has now answered arrives after its answer: stale by then.
        foreach (var answer in group.Where(m => m.Envelope?.Body is RetrievalCompleted or CommandFailed))
        {
            if (answer.Envelope!.CausationId is { } command && heldProgress.Remove(command, out var late))
            {
                foreach (var progress in late)
                {
                    await transport.SendAsync(to(progress), progress.Body, null, cancellationToken);
                    Reordered++;
                }
            }
        }

        group.Clear();
    }
}

/// <summary>
/// Duplicates commands on a site's command queue while its relay is stopped: takes every waiting command and puts each
/// back twice, newest first; keeps them to send once more at the end.
/// </summary>
internal sealed class CommandDuplicator(string connectionString, string queue)
{
    private readonly StorageQueueTransport transport = new(connectionString);
    private readonly List<RawMessage> taken = [];

    public int Duplicated { get; private set; }

    public IReadOnlyList<RawMessage> Taken => taken;

    /// <summary>Waits until at least <paramref name="expected"/> commands wait on the queue, then doubles them in reverse order.</summary>
    public async Task<int> DuplicateWaitingAsync(int expected)
    {
        var batch = new List<TransportMessage>();
        await Waiting.UntilAsync($"{expected} command(s) on {queue}", TimeSpan.FromSeconds(60), async ct =>
        {
            try
            {
                batch.AddRange(await transport.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(60), ct));
            }
            catch (Azure.RequestFailedException missing) when (missing.ErrorCode == "QueueNotFound")
            {
                // The orchestration's first command to this site creates the queue; it has not been sent yet.
            }

            return batch.Count >= expected;
        }, CancellationToken.None, TimeSpan.FromMilliseconds(100));

        var raw = batch.Select(RawMessage.From).ToList();
        foreach (var message in Enumerable.Reverse(raw).Concat(Enumerable.Reverse(raw)))
        {
            await transport.SendAsync(queue, message.Body, null, CancellationToken.None);
        }

        foreach (var message in batch)
        {
            await transport.CompleteAsync(message, CancellationToken.None);
        }

        taken.AddRange(raw);
        Duplicated += raw.Count;
        return raw.Count;
    }

    /// <summary>Every command taken so far, once more, newest first.</summary>
    public async Task<int> ReplayAllAsync()
    {
        foreach (var message in Enumerable.Reverse(taken))
        {
            await transport.SendAsync(queue, message.Body, null, CancellationToken.None);
        }

        return taken.Count;
    }
}
