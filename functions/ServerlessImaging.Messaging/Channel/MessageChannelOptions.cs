namespace ServerlessImaging.Messaging.Channel;

/// <summary>Tuning of a <see cref="MessageChannel"/>. Defaults suit a relay and the cloud app alike.</summary>
public sealed class MessageChannelOptions
{
    /// <summary>How long a received message stays hidden from other receivers (handlers renew it for longer work).</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A message handed out more often than this is quarantined instead of handled again.</summary>
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>Messages taken per receive call (Storage queues: 1-32).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Poll delay after an empty receive; doubles up to <see cref="MaxPollInterval"/> while the queue stays empty.</summary>
    public TimeSpan MinPollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest poll delay while idle.</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First delay of the reconnect backoff (exponential with jitter).</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay of the reconnect backoff.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts of one send before the error surfaces to the caller (receiving retries forever).</summary>
    public int SendAttempts { get; set; } = 8;

    /// <summary>Bodies larger than this go to the body store (defaults to the transport's limit).</summary>
    public int? OffloadThresholdBytes { get; set; }

    /// <summary>Name of the poison queue of a queue; defaults to <see cref="PoisonQueues.For"/>.</summary>
    public Func<string, string> PoisonQueueName { get; set; } = PoisonQueues.For;

    /// <summary>Create queues on first use (local stacks). In Azure, Bicep creates them and relays lack the right to.</summary>
    public bool CreateQueuesIfMissing { get; set; }

    /// <summary>Called after a message was quarantined (e.g. the relay reports it as an event). Exceptions are logged, not thrown.</summary>
    public Func<PoisonReport, CancellationToken, Task>? OnQuarantined { get; set; }
}

/// <summary>Poison queue names: <c>relay-commands-&lt;site&gt;</c> -> <c>relay-poison-&lt;site&gt;</c>, any other queue -> <c>&lt;queue&gt;-poison</c> (both within the 63-character limit).</summary>
public static class PoisonQueues
{
    /// <summary>Poison queue of <paramref name="queue"/>; the naming rule lives in <see cref="Contracts.ResourceNames.PoisonQueueOf"/> so Bicep and code share it.</summary>
    public static string For(string queue) => Contracts.ResourceNames.PoisonQueueOf(queue);
}
