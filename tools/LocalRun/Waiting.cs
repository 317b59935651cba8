using System.Diagnostics;

namespace ServerlessImaging.LocalRun;

/// <summary>Polls a condition until it holds or a deadline passes (never a blind sleep).</summary>
internal static class Waiting
{
    public static async Task UntilAsync(string what, TimeSpan deadline, Func<CancellationToken, Task<bool>> condition, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition(cancellationToken))
            {
                return;
            }

            if (clock.Elapsed > deadline)
            {
                throw new LocalRunException($"timed out after {deadline.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(300), cancellationToken);
        }
    }
}
