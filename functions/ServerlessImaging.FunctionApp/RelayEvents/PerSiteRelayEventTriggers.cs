using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Contracts;

namespace ServerlessImaging.FunctionApp.RelayEvents;

/// <summary>
/// One queue trigger per site's events queue, from the site list (<c>Sites__Ids</c>): the Functions host learns the
/// functions from the worker (worker indexing), and this transformer replaces the template trigger
/// (<see cref="TemplateFunctionName"/> on <see cref="TemplateQueue"/>) by <c>RelayEvents-&lt;site&gt;</c> on
/// <c>relay-events-&lt;site&gt;</c>, all running <see cref="RelayEventsFunction"/>. The site an event speaks for is then
/// the one named by the function that read it, never the message's own claim.
/// </summary>
/// <remarks>
/// Attributes name one queue at build time, and the sites are a deployment's setting; a trigger per site keeps each queue
/// scaled and poisoned (<c>relay-events-&lt;site&gt;-poison</c>) by the host as any queue trigger is.
/// </remarks>
public sealed class PerSiteRelayEventTriggers(IReadOnlyList<string> siteIds) : IFunctionMetadataTransformer
{
    /// <summary>Name of the declared trigger, replaced by the per-site ones.</summary>
    public const string TemplateFunctionName = "RelayEvents";

    /// <summary>Queue of the declared trigger: no relay can send to it (no role names it), so the template alone listens to nothing.</summary>
    public const string TemplateQueue = "relay-events-template";

    /// <summary>Prefix of the per-site functions' names.</summary>
    public const string FunctionNamePrefix = TemplateFunctionName + "-";

    /// <inheritdoc />
    public string Name => nameof(PerSiteRelayEventTriggers);

    /// <summary>The per-site triggers of the sites named by <c>Sites:Ids</c>.</summary>
    public static PerSiteRelayEventTriggers FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var sites = (configuration["Sites:Ids"] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var site in sites)
        {
            if (!ResourceNames.IsValidSiteId(site))
            {
                throw new InvalidOperationException($"Sites__Ids: '{site}' is not a site id (2-{ResourceNames.MaxSiteIdLength} lower-case letters, digits or single inner hyphens).");
            }
        }

        return new PerSiteRelayEventTriggers(sites);
    }

    /// <summary>The site whose events queue the function <paramref name="functionName"/> reads.</summary>
    public static string SiteOf(string functionName)
    {
        ArgumentNullException.ThrowIfNull(functionName);
        return functionName.StartsWith(FunctionNamePrefix, StringComparison.Ordinal) && ResourceNames.IsValidSiteId(functionName[FunctionNamePrefix.Length..])
            ? functionName[FunctionNamePrefix.Length..]
            : throw new InvalidOperationException($"Function '{functionName}' is not a per-site relay-events trigger.");
    }

    /// <inheritdoc />
    public void Transform(IList<IFunctionMetadata> original)
    {
        ArgumentNullException.ThrowIfNull(original);
        var template = original.SingleOrDefault(f => string.Equals(f.Name, TemplateFunctionName, StringComparison.Ordinal));
        if (template is null)
        {
            return;
        }

        original.Remove(template);
        foreach (var site in siteIds)
        {
            original.Add(ForSite(template, site));
        }
    }

    private static DefaultFunctionMetadata ForSite(IFunctionMetadata template, string site)
    {
        var name = FunctionNamePrefix + site;
        var bindings = (template.RawBindings ?? []).Select(raw =>
        {
            var binding = JsonNode.Parse(raw)!.AsObject();
            if (string.Equals((string?)binding["type"], "queueTrigger", StringComparison.OrdinalIgnoreCase))
            {
                binding["queueName"] = ResourceNames.EventsQueueFor(site);
            }

            return binding.ToJsonString(JsonSerializerOptions.Default);
        }).ToList();

        return new DefaultFunctionMetadata
        {
            Name = name,
            EntryPoint = template.EntryPoint,
            ScriptFile = template.ScriptFile,
            Language = template.Language,
            IsProxy = template.IsProxy,
            ManagedDependencyEnabled = template.ManagedDependencyEnabled,
            Retry = template.Retry,
            RawBindings = bindings,
        };
    }
}

/// <summary>Registration of the relay-events triggers.</summary>
public static class RelayEventTriggerServices
{
    /// <summary>Adds the handler of delivered relay events and the per-site triggers of <c>Sites__Ids</c>.</summary>
    public static IServiceCollection AddRelayEventTriggers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<DeliveredRelayEvents>();
        services.AddSingleton<IFunctionMetadataTransformer>(PerSiteRelayEventTriggers.FromConfiguration(configuration));
        return services;
    }
}
