using System.Net;
using System.Net.Security;
using Azure.Core;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>Creates the Cosmos DB client and, locally, the database and containers.</summary>
public static class CosmosClientFactory
{
    /// <summary>
    /// Gateway mode everywhere (the local stand-in speaks only that; in Azure it keeps to HTTPS 443 through the
    /// private endpoint). A self-signed certificate is accepted for loopback endpoints only.
    /// </summary>
    public static CosmosClient Create(CosmosOptions options, TokenCredential? credential)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new CosmosClientOptions
        {
            ConnectionMode = ConnectionMode.Gateway,
            LimitToEndpoint = true,
            RequestTimeout = TimeSpan.FromSeconds(20),
            HttpClientFactory = () => new HttpClient(new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = AcceptLoopbackSelfSigned },
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            }),
        };
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new CosmosClient(options.ConnectionString, clientOptions);
        }

        var endpoint = options.AccountEndpoint ?? throw new InvalidOperationException("Cosmos__AccountEndpoint (or Cosmos__ConnectionString locally) is not set.");
        return new CosmosClient(endpoint.ToString(), credential ?? throw new InvalidOperationException("A token credential is needed without a connection string."), clientOptions);
    }

    /// <summary>Creates the database and every container of <see cref="ResourceNames.CosmosContainers"/> if missing.</summary>
    public static async Task EnsureCreatedAsync(CosmosClient client, string databaseName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var database = (await client.CreateDatabaseIfNotExistsAsync(databaseName, cancellationToken: cancellationToken)).Database;
        foreach (var (name, partitionKeyPath) in ResourceNames.CosmosContainers)
        {
            await database.CreateContainerIfNotExistsAsync(new ContainerProperties(name, partitionKeyPath), cancellationToken: cancellationToken);
        }
    }

    private static bool AcceptLoopbackSelfSigned(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None ||
        (sender is SslStream { TargetHostName: var host } &&
         (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address))));
}
