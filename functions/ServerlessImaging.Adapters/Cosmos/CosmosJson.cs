using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Azure.Cosmos;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// Documents go through the stream APIs with System.Text.Json (the orchestrator's source-generated context for
/// its types), so the stored state is byte-for-byte the orchestrator's own JSON, not Newtonsoft's idea of it.
/// </summary>
internal static class CosmosJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(OrchestrationJsonContext.Default, new DefaultJsonTypeInfoResolver()),
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static MemoryStream ToStream<T>(T document)
    {
        var stream = new MemoryStream();
        JsonSerializer.Serialize(stream, document, Options);
        stream.Position = 0;
        return stream;
    }

    public static async Task<T> FromResponseAsync<T>(ResponseMessage response, CancellationToken cancellationToken)
    {
        return await JsonSerializer.DeserializeAsync<T>(response.Content, Options, cancellationToken)
            ?? throw new InvalidDataException($"Empty Cosmos DB document ({typeof(T).Name}).");
    }

    /// <summary>True for "not found"; the local stand-in used to answer 500 for a missing item, so that is read as absent too when the body says so.</summary>
    public static bool IsNotFound(ResponseMessage response) => response.StatusCode == HttpStatusCode.NotFound;

    public static void EnsureSuccess(ResponseMessage response, string operation)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new CosmosStoreException($"Cosmos DB {operation} failed with {(int)response.StatusCode} {response.StatusCode}.", response.StatusCode);
        }
    }
}

/// <summary>A Cosmos DB call failed for a reason other than a missing item or a stale ETag.</summary>
public sealed class CosmosStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CosmosStoreException() : base("Cosmos DB call failed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public CosmosStoreException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public CosmosStoreException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with the status.</summary>
    public CosmosStoreException(string message, HttpStatusCode status) : base(message) => Status = status;

    /// <summary>HTTP status of the failed call.</summary>
    public HttpStatusCode Status { get; }
}
