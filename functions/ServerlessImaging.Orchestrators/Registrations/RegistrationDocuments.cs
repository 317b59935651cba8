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

    /// <summary>The external event a site's answers to its searches (and its heartbeats) are raised under: the site's search alone waits for it.</summary>
    public static string SiteSearchEventName(string siteId) => "SiteSearch:" + siteId;

    /// <summary>
    /// Where <paramref name="event"/> of registration <paramref name="registrationId"/> is raised: a retrieval's answers on
    /// the study's transfer their command id names (<see cref="RelayEventTranslator.InstanceFor"/>); on the registration's
    /// own instance, a site's answer to one of the registration's FindStudies, a failure of one and a site's heartbeat
    /// under that site's search's event, everything else under <see cref="EventName"/>.
    /// </summary>
    public static (string InstanceId, string EventName) RouteOf(string registrationId, OrchestrationEvent @event)
    {
        var instanceId = RelayEventTranslator.InstanceFor(registrationId, @event);
        return (instanceId, string.Equals(instanceId, registrationId, StringComparison.Ordinal) ? EventNameFor(registrationId, @event) : EventName);
    }

    private static string EventNameFor(string registrationId, OrchestrationEvent @event) => @event switch
    {
        StudiesFoundAtSite e when CommandIds.IsFind(registrationId, e.CommandId) => SiteSearchEventName(e.SiteId),
        RelayCommandFailed e when CommandIds.IsFind(registrationId, e.CommandId) => SiteSearchEventName(e.SiteId),
        SiteHeartbeat e => SiteSearchEventName(e.SiteId),
        _ => EventName,
    };

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
