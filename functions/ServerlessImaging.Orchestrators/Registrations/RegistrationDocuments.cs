using System.Text.Json;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// The JSON documents of the registration flow: states and events written with <see cref="OrchestrationJsonContext"/>
/// (the same documents the read model stores). External events are raised with <see cref="WriteEvent"/>.
/// </summary>
public static class RegistrationDocuments
{
    /// <summary>The name of the external event every registration event is raised under.</summary>
    public const string EventName = "RegistrationEvent";

    /// <summary>A state as a document.</summary>
    public static string WriteState(RegistrationState state) => JsonSerializer.Serialize(state, OrchestrationJsonContext.Default.RegistrationState);

    /// <summary>A state document read back.</summary>
    /// <exception cref="JsonException">Not a state document.</exception>
    public static RegistrationState ReadState(string document) =>
        JsonSerializer.Deserialize(document, OrchestrationJsonContext.Default.RegistrationState) ?? throw new JsonException("Empty state document.");

    /// <summary>An event as a document.</summary>
    public static string WriteEvent(OrchestrationEvent @event) => JsonSerializer.Serialize(@event, OrchestrationJsonContext.Default.OrchestrationEvent);

    /// <summary>An event document read back, or null when it is not one (nothing from outside is trusted to be well formed).</summary>
    public static OrchestrationEvent? TryReadEvent(string? document)
    {
        if (string.IsNullOrWhiteSpace(document))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(document, OrchestrationJsonContext.Default.OrchestrationEvent);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
