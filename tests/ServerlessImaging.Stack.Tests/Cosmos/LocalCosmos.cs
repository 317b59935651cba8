using Microsoft.Azure.Cosmos;
using ServerlessImaging.Testing.Http;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Cosmos;

/// <summary>The client settings the product's adapter must use against the stand-in.</summary>
internal static class LocalCosmos
{
    public static CosmosClient CreateClient(CosmosEndpoints cosmos) =>
        new(cosmos.Endpoint.ToString(), cosmos.Key, new CosmosClientOptions
        {
            ConnectionMode = ConnectionMode.Gateway,
            // The stand-in advertises itself under its own host name; stay on the endpoint we were given.
            LimitToEndpoint = true,
            HttpClientFactory = () => new HttpClient(LocalCertificates.CreateHandlerTrustingLoopback()),
            SerializerOptions = new CosmosSerializationOptions { PropertyNamingPolicy = CosmosPropertyNamingPolicy.CamelCase },
            RequestTimeout = TimeSpan.FromSeconds(20),
        });
}
