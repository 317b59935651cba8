using System.Net;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.Relay.Configuration;

/// <summary>The configuration is unusable; the message lists every problem by setting name (never a secret's value).</summary>
public sealed class RelayConfigurationException : Exception
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public RelayConfigurationException(IReadOnlyList<string> problems)
        : base("Invalid relay configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception.</summary>
    public RelayConfigurationException()
        : this([])
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RelayConfigurationException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RelayConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}

/// <summary>Checks <see cref="RelayOptions"/> at start: all problems at once, named by their setting.</summary>
public static class RelayOptionsValidator
{
    /// <summary>The problems found (empty when valid).</summary>
    public static IReadOnlyList<string> Validate(RelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (!ResourceNames.IsValidSiteId(options.SiteId))
        {
            problems.Add($"Relay:SiteId must be 2-{ResourceNames.MaxSiteIdLength} lower-case letters, digits or single inner hyphens (it names the site's queues).");
        }

        var channel = options.Channel;
        if (string.IsNullOrWhiteSpace(channel.ConnectionString) && channel.QueueServiceUri is null)
        {
            problems.Add("Relay:Channel needs either ConnectionString (local) or QueueServiceUri with a Credential (Azure).");
        }

        if (channel.QueueServiceUri is { } queueUri && !IsHttpsOrLoopback(queueUri))
        {
            problems.Add("Relay:Channel:QueueServiceUri must use https (http only for a loopback emulator).");
        }

        if (channel.BlobServiceUri is { } blobUri && !IsHttpsOrLoopback(blobUri))
        {
            problems.Add("Relay:Channel:BlobServiceUri must use https (http only for a loopback emulator).");
        }

        if (channel.QueueServiceUri is not null && channel.Credential is not ("Default" or "ManagedIdentity" or "ClientCertificate"))
        {
            problems.Add("Relay:Channel:Credential must be Default, ManagedIdentity or ClientCertificate.");
        }

        if (channel.QueueServiceUri is not null && channel.Credential == "ClientCertificate" &&
            (string.IsNullOrWhiteSpace(channel.TenantId) || string.IsNullOrWhiteSpace(channel.ClientId) || string.IsNullOrWhiteSpace(channel.CertificatePath)))
        {
            problems.Add("Relay:Channel:Credential ClientCertificate needs TenantId, ClientId and CertificatePath.");
        }

        if (channel.EventsQueue is { } eventsQueue && eventsQueue.Length is < 3 or > 63)
        {
            problems.Add("Relay:Channel:EventsQueue, when set, must be a queue name (3-63 characters).");
        }

        if (channel.VisibilityTimeoutSeconds is < 10 or > 3600)
        {
            problems.Add("Relay:Channel:VisibilityTimeoutSeconds must be 10-3600.");
        }

        if (channel.MaxPollIntervalMilliseconds is < 10 or > 60_000)
        {
            problems.Add("Relay:Channel:MaxPollIntervalMilliseconds must be 10-60000.");
        }

        if (channel.MaxDeliveries is < 1 or > 100)
        {
            problems.Add("Relay:Channel:MaxDeliveries must be 1-100.");
        }

        var pacs = options.Pacs;
        CheckAeTitle(problems, "Relay:Pacs:AeTitle", pacs.AeTitle);
        CheckAeTitle(problems, "Relay:Pacs:CallingAeTitle", pacs.CallingAeTitle);
        if (string.IsNullOrWhiteSpace(pacs.Host))
        {
            problems.Add("Relay:Pacs:Host is required.");
        }

        CheckPort(problems, "Relay:Pacs:Port", pacs.Port);
        if (pacs.DimseTimeoutSeconds is < 1 or > 3600 || pacs.ConnectTimeoutSeconds is < 1 or > 600)
        {
            problems.Add("Relay:Pacs:DimseTimeoutSeconds must be 1-3600 and ConnectTimeoutSeconds 1-600.");
        }

        if (!Enum.IsDefined(pacs.RetrieveMethod))
        {
            problems.Add("Relay:Pacs:RetrieveMethod must be Move or Get.");
        }

        if (pacs.RetrieveMethod == RetrieveMethod.Move)
        {
            CheckAeTitle(problems, "Relay:Scp:AeTitle", options.Scp.AeTitle);
            CheckPort(problems, "Relay:Scp:Port", options.Scp.Port);
            CheckScpAccess(problems, options);
        }

        if (string.IsNullOrWhiteSpace(options.Spool.Directory))
        {
            problems.Add("Relay:Spool:Directory is required.");
        }

        if (options.Spool.MaxBytes < 16L * 1024 * 1024)
        {
            problems.Add("Relay:Spool:MaxBytes must be at least 16 MiB (one large instance).");
        }

        if (options.Spool.MaxMemoryBytes < 1024 * 1024)
        {
            problems.Add("Relay:Spool:MaxMemoryBytes must be at least 1 MiB.");
        }

        if (options.MaxConcurrentCommands is < 1 or > 64 || options.MaxConcurrentSearches is < 1 or > 64 || options.UploadConcurrency is < 1 or > 64)
        {
            problems.Add("Relay:MaxConcurrentCommands, Relay:MaxConcurrentSearches and Relay:UploadConcurrency must be 1-64.");
        }

        if (options.HeartbeatSeconds is < 1 or > 3600)
        {
            problems.Add("Relay:HeartbeatSeconds must be 1-3600.");
        }

        if (options.StagedReportBatchSize is < 0 or > 100)
        {
            problems.Add("Relay:StagedReportBatchSize must be 0-100 (0: no staged instances in progress events).");
        }

        CheckDelivery(problems, options.Delivery);
        if (options.ProgressIntervalMilliseconds is < 100 or > 600_000)
        {
            problems.Add("Relay:ProgressIntervalMilliseconds must be 100-600000.");
        }

        return problems;
    }

    /// <summary>Throws <see cref="RelayConfigurationException"/> when anything is wrong.</summary>
    public static void EnsureValid(RelayOptions options)
    {
        var problems = Validate(options);
        if (problems.Count > 0)
        {
            throw new RelayConfigurationException(problems);
        }
    }

    private static void CheckAeTitle(List<string> problems, string name, string value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 16 || value.Any(c => c < 0x20 || c > 0x7E || c == '\\'))
        {
            problems.Add($"{name} must be 1-16 printable ASCII characters without backslash.");
        }
    }

    private static void CheckDelivery(List<string> problems, DeliverySettings delivery)
    {
        for (var i = 0; i < delivery.AllowedDestinations.Count; i++)
        {
            var node = delivery.AllowedDestinations[i];
            CheckAeTitle(problems, $"Relay:Delivery:AllowedDestinations:{i}:AeTitle", node.AeTitle);
            if (string.IsNullOrWhiteSpace(node.Host))
            {
                problems.Add($"Relay:Delivery:AllowedDestinations:{i}:Host is required.");
            }

            CheckPort(problems, $"Relay:Delivery:AllowedDestinations:{i}:Port", node.Port);
        }

        for (var i = 0; i < delivery.AllowedSources.Count; i++)
        {
            var source = delivery.AllowedSources[i];
            if (!source.IsAbsoluteUri || !IsHttpsOrLoopback(source) || !string.IsNullOrEmpty(source.Query) || !string.IsNullOrEmpty(source.UserInfo))
            {
                problems.Add($"Relay:Delivery:AllowedSources:{i} must be an absolute https URL without query or user info (http only for a loopback stand-in).");
            }
        }

        if (delivery.CallingAeTitle is { Length: > 0 } calling)
        {
            CheckAeTitle(problems, "Relay:Delivery:CallingAeTitle", calling);
        }
    }

    private static void CheckScpAccess(List<string> problems, RelayOptions options)
    {
        var scp = options.Scp;
        if (!IPAddress.TryParse(scp.BindAddress, out var bind))
        {
            problems.Add("Relay:Scp:BindAddress must be an IP address (the relay's address on the PACS network; 0.0.0.0 for every interface).");
        }

        var peers = new List<IPNetwork>();
        for (var i = 0; i < scp.AllowedPeerAddresses.Count; i++)
        {
            if (PeerAddresses.TryParse(scp.AllowedPeerAddresses[i], out var network))
            {
                peers.Add(network);
            }
            else
            {
                problems.Add($"Relay:Scp:AllowedPeerAddresses:{i} must be an IP address or a CIDR range with zero host bits (e.g. 10.20.0.15 or 10.20.0.0/28).");
            }
        }

        for (var i = 0; i < scp.AllowedCallingAeTitles.Count; i++)
        {
            CheckAeTitle(problems, $"Relay:Scp:AllowedCallingAeTitles:{i}", scp.AllowedCallingAeTitles[i]);
        }

        if (string.IsNullOrWhiteSpace(scp.Tls.CertificatePath) && !string.IsNullOrWhiteSpace(scp.Tls.KeyPath))
        {
            problems.Add("Relay:Scp:Tls:KeyPath is set without Relay:Scp:Tls:CertificatePath.");
        }

        // Without the list, the PACS host stands for it; only a literal address can be judged before resolving it.
        if (scp.AllowedPeerAddresses.Count == 0 && IPAddress.TryParse(options.Pacs.Host, out var pacsAddress))
        {
            peers.Add(PeerAddresses.Exactly(pacsAddress));
        }

        if (bind is not null && IPAddress.IsLoopback(bind) && peers.Any(p => !PeerAddresses.IsLoopbackOnly(p)))
        {
            problems.Add("Relay:Scp:BindAddress is a loopback address but the PACS is elsewhere: set it to the relay's address the PACS sends to.");
        }
    }

    private static void CheckPort(List<string> problems, string name, int port)
    {
        if (port is < 1 or > 65535)
        {
            problems.Add($"{name} must be 1-65535.");
        }
    }

    private static bool IsHttpsOrLoopback(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
}
