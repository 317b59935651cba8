using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessImaging.Contracts.Messages;

/// <summary>Source-generated (reflection-free, trimming-safe) serialisation of every message body.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    // Nulls are written: with RespectRequiredConstructorParameters an omitted nullable constructor parameter
    // (a study without description, an echo without round trip) would be rejected as missing on read.
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(EchoCommand))]
[JsonSerializable(typeof(FindStudiesCommand))]
[JsonSerializable(typeof(ListSeriesCommand))]
[JsonSerializable(typeof(RetrieveStudyCommand))]
[JsonSerializable(typeof(CancelCommand))]
[JsonSerializable(typeof(EchoResult))]
[JsonSerializable(typeof(StudiesFound))]
[JsonSerializable(typeof(SeriesListed))]
[JsonSerializable(typeof(RetrievalProgress))]
[JsonSerializable(typeof(RetrievalCompleted))]
[JsonSerializable(typeof(CommandFailed))]
[JsonSerializable(typeof(Heartbeat))]
[JsonSerializable(typeof(DeliverStudyCommand))]
[JsonSerializable(typeof(DeliveryProgress))]
[JsonSerializable(typeof(DeliveryCompleted))]
[JsonSerializable(typeof(DeliveryFailed))]
public sealed partial class MessagesJsonContext : JsonSerializerContext;
