using System.Net;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Retrieval;

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

    [Fact]
    public void The_scp_listens_on_loopback_unless_told_otherwise() => Assert.Equal("127.0.0.1", new RelayOptions().Scp.BindAddress);

    [Theory]
    [InlineData("10.0.0.1/8")] // host bits set: most likely a typo
    [InlineData("10.20.0.0/33")]
    [InlineData("pacs.local")]
    [InlineData("")]
    public void An_allowed_peer_entry_that_is_not_an_address_or_a_clean_range_is_named(string entry)
    {
        var options = Valid();
        options.Scp.BindAddress = "0.0.0.0";
        options.Scp.AllowedPeerAddresses.AddRange(["10.20.0.15", entry]);

        Assert.Equal(["Relay:Scp:AllowedPeerAddresses:1"], RelayOptionsValidator.Validate(options).Select(p => p[..p.IndexOf(' ', StringComparison.Ordinal)]));
    }

    [Fact]
    public void Addresses_ranges_and_extra_calling_AE_titles_are_accepted()
    {
        var options = Valid();
        options.Scp.BindAddress = "10.20.0.42";
        options.Scp.AllowedPeerAddresses.AddRange(["10.20.0.15", "10.20.1.0/28", "fd00::/64"]);
        options.Scp.AllowedCallingAeTitles.AddRange(["CHUNORD", "CHUNORD_STORE"]);

        Assert.Empty(RelayOptionsValidator.Validate(options));
    }

    [Fact]
    public void A_bad_calling_AE_title_or_bind_address_is_named()
    {
        var options = Valid();
        options.Scp.BindAddress = "every-interface";
        options.Scp.AllowedCallingAeTitles.Add("WAY_TOO_LONG_AE_TITLE");

        var problems = RelayOptionsValidator.Validate(options);

        Assert.Contains(problems, p => p.StartsWith("Relay:Scp:BindAddress", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Scp:AllowedCallingAeTitles:0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("10.20.0.15", null, true)] // the PACS elsewhere could never reach a loopback SCP
    [InlineData("127.0.0.1", null, false)]
    [InlineData("pacs.local", null, false)] // a name is judged at start, once resolved
    [InlineData("pacs.local", "10.20.0.0/28", true)]
    [InlineData("pacs.local", "127.0.0.0/8", false)]
    public void A_loopback_scp_with_a_PACS_elsewhere_is_refused(string pacsHost, string? allowed, bool refused)
    {
        var options = Valid();
        options.Pacs.Host = pacsHost;
        if (allowed is not null)
        {
            options.Scp.AllowedPeerAddresses.Add(allowed);
        }

        var problems = RelayOptionsValidator.Validate(options);

        Assert.Equal(refused, problems.Any(p => p.StartsWith("Relay:Scp:BindAddress is a loopback address", StringComparison.Ordinal)));
        options.Scp.BindAddress = "0.0.0.0";
        Assert.Empty(RelayOptionsValidator.Validate(options));
    }

    [Fact]
    public async Task The_PACS_host_resolved_at_start_decides_who_may_connect_and_a_remote_one_refuses_a_loopback_listener()
    {
        var options = Valid();
        options.Pacs.Host = "192.0.2.10";
        options.Scp.BindAddress = "0.0.0.0";

        var policy = await ScpAccessPolicy.ResolveAsync(options, CancellationToken.None);

        Assert.Equal([IPNetwork.Parse("192.0.2.10/32")], policy.Peers);
        Assert.Equal(["CHUNORD"], policy.CallingAeTitles);
        var ex = Assert.Throws<RelayConfigurationException>(() => policy.EnsureReachableFrom(IPAddress.Loopback));
        Assert.Contains("Relay:Scp:BindAddress", ex.Message, StringComparison.Ordinal);
        policy.EnsureReachableFrom(IPAddress.Parse("192.0.2.1"));
    }

    [Fact]
    public void A_TLS_key_without_its_certificate_is_named()
    {
        var options = Valid();
        options.Scp.Tls.KeyPath = "/etc/si-relay/scp-key.pem";

        Assert.Contains(RelayOptionsValidator.Validate(options), p => p.StartsWith("Relay:Scp:Tls:KeyPath", StringComparison.Ordinal));
    }
}
