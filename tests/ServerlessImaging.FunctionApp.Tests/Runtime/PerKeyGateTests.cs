using ServerlessImaging.FunctionApp.Runtime;

namespace ServerlessImaging.FunctionApp.Tests.Runtime;

/// <summary>Pure logic of the per-registration turn-taking used by the orchestration engine.</summary>
public sealed class PerKeyGateTests
{
    [Fact]
    public async Task Holders_of_one_key_take_turns()
    {
        var gate = new PerKeyGate();
        var first = await gate.EnterAsync("r-1", CancellationToken.None);
        var second = gate.EnterAsync("r-1", CancellationToken.None);

        Assert.False(second.IsCompleted);
        first.Dispose();
        using var turn = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, gate.ActiveKeys);
    }

    [Fact]
    public async Task Distinct_keys_do_not_wait_for_each_other()
    {
        var gate = new PerKeyGate();
        using var a = await gate.EnterAsync("r-1", CancellationToken.None);
        var b = gate.EnterAsync("r-2", CancellationToken.None);

        Assert.True(b.IsCompletedSuccessfully);
        (await b).Dispose();
        Assert.Equal(1, gate.ActiveKeys);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_no_entry_and_does_not_take_the_turn()
    {
        var gate = new PerKeyGate();
        var held = await gate.EnterAsync("r-1", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync("r-1", cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        Assert.Equal(0, gate.ActiveKeys);
        using var again = await gate.EnterAsync("r-1", CancellationToken.None);
        Assert.Equal(1, gate.ActiveKeys);
    }

    [Fact]
    public async Task Many_concurrent_holders_never_overlap_and_the_gate_ends_empty()
    {
        var gate = new PerKeyGate();
        var inside = 0;
        var maxInside = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) =>
        {
            using (await gate.EnterAsync("r-" + (i % 2), ct))
            {
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref maxInside, now);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        });

        Assert.InRange(maxInside, 1, 2);
        Assert.Equal(0, gate.ActiveKeys);
    }

    [Fact]
    public async Task Disposing_a_turn_twice_passes_it_on_once()
    {
        var gate = new PerKeyGate();
        var turn = await gate.EnterAsync("r-1", CancellationToken.None);
        var next = gate.EnterAsync("r-1", CancellationToken.None);
        var third = gate.EnterAsync("r-1", CancellationToken.None);

        turn.Dispose();
        turn.Dispose();
        using var second = await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(third.IsCompleted);
        second.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
