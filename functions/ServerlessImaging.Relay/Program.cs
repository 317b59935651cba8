using Microsoft.Extensions.Hosting;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Hosting;

if (args.Contains("--check"))
{
    return await ConfigurationCheck.RunAsync(args, Console.Out);
}

try
{
    using var host = RelayHost.Build(args);
    await host.RunAsync();
    return 0;
}
catch (RelayConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
