using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Tests.Configuration;

public sealed class OptionsValidationTests
{
    private static RelayOptions Valid() => new()
    {
        SiteId = "chu-nord",
        Channel = { ConnectionString = "UseDevelopmentStorage=true" },
        Pacs = { AeTitle = "CHUNORD", Host = "pacs.local", Port = 104, CallingAeTitle = "SI_RELAY_NORD" },
        Scp = { AeTitle = "SI_RELAY_NORD", Port = 11121 },
    };

    [Fact]
    public void A_complete_configuration_is_valid() => Assert.Empty(RelayOptionsValidator.Validate(Valid()));

    [Fact]
    public void Every_problem_is_reported_at_once_by_setting_name()
    {
        var options = Valid();
        options.SiteId = "CHU Nord";
        options.Channel.ConnectionString = null;
        options.Pacs.AeTitle = "A_TITLE_LONGER_THAN_16";
        options.Pacs.Port = 0;
        options.Scp.AeTitle = string.Empty;
        options.Spool.MaxBytes = 1;

        var problems = RelayOptionsValidator.Validate(options);

        Assert.Contains(problems, p => p.StartsWith("Relay:SiteId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Channel", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Pacs:AeTitle", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Pacs:Port", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Scp:AeTitle", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Spool:MaxBytes", StringComparison.Ordinal));
        var ex = Assert.Throws<RelayConfigurationException>(() => RelayOptionsValidator.EnsureValid(options));
        Assert.Equal(problems.Count, ex.Problems.Count);
    }

    [Fact]
    public void Get_needs_no_SCP_but_Move_does()
    {
        var options = Valid();
        options.Scp.AeTitle = string.Empty;
        options.Pacs.RetrieveMethod = RetrieveMethod.Get;
        Assert.Empty(RelayOptionsValidator.Validate(options));

        options.Pacs.RetrieveMethod = RetrieveMethod.Move;
        Assert.NotEmpty(RelayOptionsValidator.Validate(options));
    }

    [Fact]
    public void Plain_http_to_a_remote_queue_service_is_refused()
    {
        var options = Valid();
        options.Channel.ConnectionString = null;
        options.Channel.QueueServiceUri = new Uri("http://account.queue.core.windows.net");

        Assert.Contains(RelayOptionsValidator.Validate(options), p => p.Contains("https", StringComparison.Ordinal));
    }
}
