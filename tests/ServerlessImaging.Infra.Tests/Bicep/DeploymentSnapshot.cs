using System.Text.Json.Nodes;

namespace ServerlessImaging.Infra.Tests.Bicep;

/// <summary>One resource Azure would create, as predicted by bicep snapshot.</summary>
public sealed record PredictedResource(string Id, string Type, string Name, JsonObject Body)
{
    /// <summary>Last segment of the name (the child's own name).</summary>
    public string ShortName => Name[(Name.LastIndexOf('/') + 1)..];

    /// <summary>The resource's properties object (empty when it has none).</summary>
    public JsonObject Properties => Body["properties"] as JsonObject ?? [];

    /// <summary>A string at a dotted path under the body, or null.</summary>
    public string? StringAt(string path) => NodeAt(path)?.GetValueKind() == System.Text.Json.JsonValueKind.String ? NodeAt(path)!.GetValue<string>() : null;

    /// <summary>A node at a dotted path under the body, or null.</summary>
    public JsonNode? NodeAt(string path)
    {
        JsonNode? node = Body;
        foreach (var segment in path.Split('.'))
        {
            node = node is JsonObject obj && obj.TryGetPropertyValue(segment, out var child) ? child : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>For extension resources (role assignments, diagnostic settings): the id of the resource they apply to.</summary>
    public string ScopeId
    {
        get
        {
            var marker = Id.LastIndexOf("/providers/", StringComparison.OrdinalIgnoreCase);
            return marker <= 0 ? string.Empty : Id[..marker];
        }
    }
}

/// <summary>The predicted resources of one deployment (bicep snapshot output).</summary>
public sealed class DeploymentSnapshot
{
    private DeploymentSnapshot(IReadOnlyList<PredictedResource> resources) => Resources = resources;

    public IReadOnlyList<PredictedResource> Resources { get; }

    public static DeploymentSnapshot Parse(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var resources = root["predictedResources"]!.AsArray()
            .Select(node => node!.AsObject())
            .Select(obj => new PredictedResource(
                obj["id"]!.GetValue<string>(),
                obj["type"]!.GetValue<string>(),
                obj["name"]!.GetValue<string>(),
                obj))
            .ToList();
        return new DeploymentSnapshot(resources);
    }

    public IEnumerable<PredictedResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public PredictedResource SingleOfType(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected exactly one {type}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>
    /// The app's storage account (queues, staging, task hub): the one storage account not tagged as the console's static
    /// website (modules/console-site.bicep).
    /// </summary>
    public PredictedResource AppStorage()
    {
        var matches = OfType("Microsoft.Storage/storageAccounts").Where(r => r.StringAt("tags.purpose") != ConsoleSitePurpose).ToList();
        Assert.True(matches.Count == 1, $"Expected exactly one app storage account, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The console's static-website storage account.</summary>
    public PredictedResource ConsoleSiteStorage() =>
        Assert.Single(OfType("Microsoft.Storage/storageAccounts"), r => r.StringAt("tags.purpose") == ConsoleSitePurpose);

    /// <summary>Tag value of the console's storage account.</summary>
    public const string ConsoleSitePurpose = "console-static-site";

    /// <summary>Role assignments with their scope and role definition GUID.</summary>
    public IEnumerable<(string ScopeId, string RoleId, string PrincipalId)> RoleAssignments() =>
        OfType("Microsoft.Authorization/roleAssignments").Select(r => (
            r.ScopeId,
            r.StringAt("properties.roleDefinitionId")!.Split('/')[^1],
            r.StringAt("properties.principalId") ?? string.Empty));
}
