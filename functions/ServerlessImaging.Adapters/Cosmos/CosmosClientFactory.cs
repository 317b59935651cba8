using System.Data.Common;
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
    /// private endpoint). A self-signed certificate is accepted for loopback endpoints only. For local tools and tests;
    /// the hosts call the overload that says whether the environment allows it.
    /// </summary>
    public static CosmosClient Create(CosmosOptions options, TokenCredential? credential) => Create(options, credential, acceptLoopbackSelfSignedCertificate: true);

    /// <summary>
    /// As <see cref="Create(CosmosOptions, TokenCredential?)"/>; with <paramref name="acceptLoopbackSelfSignedCertificate"/>
    /// false (outside Development) the certificate is validated like any other, whatever the endpoint.
    /// </summary>
    public static CosmosClient Create(CosmosOptions options, TokenCredential? credential, bool acceptLoopbackSelfSignedCertificate)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new CosmosClientOptions
        {
            ConnectionMode = ConnectionMode.Gateway,
            LimitToEndpoint = true,
            RequestTimeout = TimeSpan.FromSeconds(20),
            HttpClientFactory = () => new HttpClient(new SocketsHttpHandler
            {
                // Null callback = the platform's default validation.
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = acceptLoopbackSelfSignedCertificate ? AcceptLoopbackSelfSigned : null },
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

    /// <summary>The account endpoint the client will call: the connection string's <c>AccountEndpoint</c>, else <see cref="CosmosOptions.AccountEndpoint"/>.</summary>
    public static Uri? EndpointOf(CosmosOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return options.AccountEndpoint;
        }

        var parts = new DbConnectionStringBuilder();
        try
        {
            parts.ConnectionString = options.ConnectionString;
        }
        catch (ArgumentException)
        {
            return null; // Not a connection string at all: the client will say so when it is created.
        }

        return parts.TryGetValue("AccountEndpoint", out var value) && Uri.TryCreate(value as string, UriKind.Absolute, out var uri) ? uri : null;
    }

    /// <summary>True for <c>localhost</c> and loopback addresses: the hosts whose self-signed certificate the lenient mode accepts.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

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
        errors == SslPolicyErrors.None || (sender is SslStream { TargetHostName: var host } && IsLoopback(host));
}
