using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessImaging.Cloud.Api.Http;

/// <summary>The API's JSON conventions: camelCase, enums as strings, unknown members refused (a typo must not pass silently).</summary>
public static class ApiJson
{
    /// <summary>Options for request and response bodies.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
