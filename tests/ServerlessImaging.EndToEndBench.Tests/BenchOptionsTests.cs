using ServerlessImaging.EndToEndBench;
using ServerlessImaging.EndToEndBench.Data;

namespace ServerlessImaging.EndToEndBench.Tests;

public class BenchOptionsTests
{
    [Fact]
    public void Defaults_are_three_studies_of_fifty_instances_and_sixty_registrations_eight_at_a_time()
    {
        var cli = new BenchOptions.CommandLine();
        var parse = cli.Root.Parse([]);
        Assert.Empty(parse.Errors);
        var options = cli.Read(parse);
        Assert.Equal((3, 50, 3, 60, 8, TimeSpan.Zero, 2000, BenchPart.All, false), (options.Studies, options.Instances, options.Rounds, options.Registrations, options.Concurrency, options.PollInterval, options.ProgressMilliseconds, options.Only, options.Json));
        Assert.Empty(options.AppSettings);
        Assert.Empty(options.RelaySettings);
        Assert.Equal("followed with waiting reads (afterVersion)", options.StatusReads);
    }

    [Fact]
    public void Every_option_is_read()
    {
        var cli = new BenchOptions.CommandLine();
        var parse = cli.Root.Parse(["--studies", "2", "--instances", "7", "--rounds", "5", "--registrations", "40", "--concurrency", "4", "--poll-ms", "100", "--relay-progress-ms", "250", "--only", "Transfer", "--json",
            "--app-setting", "DurableTask__MaxQueuePollingInterval=00:00:00.100", "--app-setting", "A=b=c", "--relay-setting", "Relay__MaxConcurrentSearches=8"]);
        Assert.Empty(parse.Errors);
        var options = cli.Read(parse);
        Assert.Equal((2, 7, 5, 40, 4, TimeSpan.FromMilliseconds(100), 250, BenchPart.Transfer, true), (options.Studies, options.Instances, options.Rounds, options.Registrations, options.Concurrency, options.PollInterval, options.ProgressMilliseconds, options.Only, options.Json));
        Assert.Equal(new Dictionary<string, string> { ["DurableTask__MaxQueuePollingInterval"] = "00:00:00.100", ["A"] = "b=c" }, options.AppSettings);
        Assert.Equal(new Dictionary<string, string> { ["Relay__MaxConcurrentSearches"] = "8" }, options.RelaySettings);
        Assert.Equal("polled every 100 ms", options.StatusReads);
        Assert.True(options.RunsTransfer);
        Assert.False(options.RunsRegistrations);
    }

    [Theory]
    [InlineData("--studies", "0")]
    [InlineData("--instances", "-1")]
    [InlineData("--concurrency", "0")]
    [InlineData("--registrations", "1001")]
    [InlineData("--rounds", "1001")]
    [InlineData("--only", "Everything")]
    [InlineData("--poll-ms", "-5")]
    [InlineData("--app-setting", "no-equals-sign")]
    [InlineData("--relay-setting", "=value")]
    public void Out_of_range_values_are_refused_with_the_option_named(string option, string value)
    {
        var parse = new BenchOptions.CommandLine().Root.Parse([option, value]);
        Assert.Contains(parse.Errors, e => e.Message.Contains(option, StringComparison.Ordinal) || e.Message.Contains(value, StringComparison.Ordinal));
    }

    [Fact]
    public void Studies_go_round_robin_over_the_sites_from_an_offset()
    {
        string[] sites = ["a", "b", "c"];
        Assert.Equal(["a", "b", "c"], StudyLayout.RoundRobin(3, sites));
        Assert.Equal(["b", "c", "a", "b"], StudyLayout.RoundRobin(4, sites, offset: 1));
        Assert.Empty(StudyLayout.RoundRobin(0, sites));
        Assert.Throws<ArgumentException>(() => StudyLayout.RoundRobin(1, []));
    }
}
