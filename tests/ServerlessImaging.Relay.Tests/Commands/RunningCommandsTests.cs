using ServerlessImaging.Relay.Commands;

namespace ServerlessImaging.Relay.Tests.Commands;

/// <summary>A Cancel stops the command it names and nothing else, whenever it arrives.</summary>
public class RunningCommandsTests
{
    [Fact]
    public void A_cancel_stops_only_the_command_it_names()
    {
        var running = new RunningCommands();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        using var a = running.Track("reg-1/deliver/1.2/a1", first);
        using var b = running.Track("reg-1/deliver/1.3/a1", second);

        Assert.Equal(1, running.Cancel("reg-1/deliver/1.2/a1"));

        Assert.True(first.IsCancellationRequested);
        Assert.False(second.IsCancellationRequested);
    }

    [Fact]
    public void A_cancel_for_a_finished_command_leaves_the_registrations_other_commands_running()
    {
        var running = new RunningCommands();
        using var other = new CancellationTokenSource();
        using (running.Track("reg-1/deliver/1.2/a1", new CancellationTokenSource()))
        {
        }

        using var tracked = running.Track("reg-1/deliver/1.3/a1", other);

        Assert.Equal(0, running.Cancel("reg-1/deliver/1.2/a1"));
        Assert.False(other.IsCancellationRequested);
    }

    [Fact]
    public void A_cancel_that_arrives_first_stops_its_command_as_soon_as_it_starts()
    {
        var running = new RunningCommands();
        Assert.Equal(0, running.Cancel("reg-1/retrieve/1.2/a1"));

        using var cancel = new CancellationTokenSource();
        using var tracked = running.Track("reg-1/retrieve/1.2/a1", cancel);
        Assert.True(cancel.IsCancellationRequested);

        // Remembered once: the same id started again later (a redelivery after a crash) is not cancelled again.
        using var again = new CancellationTokenSource();
        tracked.Dispose();
        using var retracked = running.Track("reg-1/retrieve/1.2/a1", again);
        Assert.False(again.IsCancellationRequested);
    }
}
