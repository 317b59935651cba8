using Microsoft.Extensions.Configuration;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Pacs;
using ServerlessImaging.Relay.Retrieval;

namespace ServerlessImaging.Relay.Hosting;

/// <summary><c>si-relay --check</c>: validate the configuration, C-ECHO the PACS, print the result, exit 0 (ok) or 1.</summary>
public static class ConfigurationCheck
{
    /// <summary>Runs the check and returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, Action<IConfigurationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var builder = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.Where(a => a != "--check").ToArray());
        configure?.Invoke(builder);
        RelayOptions options;
        try
        {
            options = RelayHost.ReadOptions(builder.Build());
        }
        catch (RelayConfigurationException ex)
        {
            await output.WriteLineAsync("configuration: INVALID");
            await output.WriteLineAsync(ex.Message);
            return 1;
        }

        await output.WriteLineAsync($"configuration: ok (site {options.SiteId}, retrieve by {options.Pacs.RetrieveMethod})");
        if (options.Pacs.RetrieveMethod == RetrieveMethod.Move)
        {
            // Who the SCP will let in is worth seeing before the PACS first tries: it depends on DNS when not listed.
            try
            {
                var policy = await ScpAccessPolicy.ResolveAsync(options, CancellationToken.None);
                policy.EnsureReachableFrom(System.Net.IPAddress.Parse(options.Scp.BindAddress));
                await output.WriteLineAsync($"scp: {options.Scp.AeTitle} on {options.Scp.BindAddress}:{options.Scp.Port} (or si-relay.socket), accepting {policy}");
            }
            catch (RelayConfigurationException ex)
            {
                await output.WriteLineAsync("scp: INVALID");
                await output.WriteLineAsync(ex.Message);
                return 1;
            }
        }

        // Where this relay may push studies (and read them from) is the site's decision: worth seeing before the first delivery.
        var delivery = options.Delivery;
        await output.WriteLineAsync(delivery.AllowedDestinations.Count == 0 || delivery.AllowedSources.Count == 0
            ? "delivery: off (Relay:Delivery:AllowedDestinations and AllowedSources both needed)"
            : $"delivery: to {string.Join(", ", delivery.AllowedDestinations.Select(d => $"{d.AeTitle}@{d.Host}:{d.Port}"))} from {string.Join(", ", delivery.AllowedSources)}");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Pacs.ConnectTimeoutSeconds + 5));
            var rtt = await new PacsGateway(options).EchoAsync(timeout.Token);
            await output.WriteLineAsync($"pacs echo: ok ({options.Pacs.CallingAeTitle} -> {options.Pacs.AeTitle}@{options.Pacs.Host}:{options.Pacs.Port}, {rtt.TotalMilliseconds:F1} ms)");
            return 0;
        }
        catch (Exception ex)
        {
            var reason = PacsFailures.Classify(ex) is { } known ? $"{known.Reason}: {known.SafeMessage}" : ex.GetType().Name;
            await output.WriteLineAsync($"pacs echo: FAILED ({options.Pacs.CallingAeTitle} -> {options.Pacs.AeTitle}@{options.Pacs.Host}:{options.Pacs.Port}) {reason}");
            return 1;
        }
    }
}
