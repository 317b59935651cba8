using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// Source-generated serialisation of the state, the commands and the events
/// (for an event log or replays). Adapters store these documents as they are.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(RegistrationState))]
[JsonSerializable(typeof(OrchestrationCommand))]
[JsonSerializable(typeof(OrchestrationEvent))]
[JsonSerializable(typeof(IReadOnlyList<OrchestrationCommand>))]
public sealed partial class OrchestrationJsonContext : JsonSerializerContext;
