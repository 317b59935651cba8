using System.Collections.Concurrent;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>
/// Wakes a status read waiting for a registration to change (<c>GET /registrations/{id}?afterVersion=N</c>) as soon
/// as this process records a new state of it: the step commits and the API's own previews. Another process's records
/// are found by the waiter's periodic read of the read model instead.
/// </summary>
public sealed class RegistrationViewChanges
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> waiting = new(StringComparer.Ordinal);

    /// <summary>Says that a new state of <paramref name="registrationId"/> was recorded.</summary>
    public void Notify(string registrationId)
    {
        if (waiting.TryRemove(registrationId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    /// <summary>Completes at the next <see cref="Notify"/> for <paramref name="registrationId"/>, or after <paramref name="atMost"/>.</summary>
    public async Task WaitAsync(string registrationId, TimeSpan atMost, CancellationToken cancellationToken)
    {
        var signal = waiting.GetOrAdd(registrationId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(atMost);
        try
        {
            await signal.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Nothing recorded here meanwhile: the caller reads the read model again.
        }
    }
}
