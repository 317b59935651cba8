using Microsoft.DurableTask.Client;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>
/// The Durable Task client of this process, as its host provides it: the standalone host's engine sets it when it is
/// built; the Functions app's triggers hand over the one their <c>[DurableClient]</c> binding gives (the extension keeps
/// one client per task hub, so it is set once and the same each time).
/// </summary>
public sealed class DurableClientHolder
{
    private DurableTaskClient? client;

    /// <summary>The client.</summary>
    /// <exception cref="InvalidOperationException">The host has not provided one yet.</exception>
    public DurableTaskClient Client => client ?? throw new InvalidOperationException("No Durable Task client yet: the host provides it before the first request or trigger.");

    /// <summary>Provides the client (the first one given is kept).</summary>
    public void Provide(DurableTaskClient durableClient)
    {
        ArgumentNullException.ThrowIfNull(durableClient);
        Interlocked.CompareExchange(ref client, durableClient, null);
    }
}
