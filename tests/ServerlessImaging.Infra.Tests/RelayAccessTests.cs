using ServerlessImaging.Contracts;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// A site given a relay principal gets exactly four grants: on its own site's queues, each at queue scope, a custom
/// consumer role on relay-commands-&lt;site&gt; (receive, peek, update — lease renewal) and Message Sender on
/// relay-poison-&lt;site&gt; and relay-events-&lt;site&gt;; and a custom create-only role on the message-bodies
/// container. Nothing at account scope, nothing on another site's queues or on any events poison queue, nothing on any
/// staging container (uploads use the create + write SAS the app issues per command on the site's own container).
/// </summary>
public sealed class RelayAccessTests
{
    private const string MessageSender = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a";
    private const string NordRelay = "aaaaaaaa-0000-0000-0000-000000000001";
    private const string EstRelay = "aaaaaaaa-0000-0000-0000-000000000003";
    private const string RoleDefinitionType = "Microsoft.Authorization/roleDefinitions";

    private static readonly string[] ConsumerDataActions =
    [
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write",
    ];

    private static readonly string[] BodyCreatorDataActions =
    [
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
    ];

    [Fact]
    public async Task Each_provisioned_relay_gets_exactly_its_own_queues_and_create_only_on_message_bodies()
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(ScenarioFile());
        var queues = snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").ToDictionary(q => q.ShortName, q => q.Id, StringComparer.Ordinal);
        var containers = snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").ToDictionary(c => c.ShortName, c => c.Id, StringComparer.Ordinal);
        var consumer = CustomRoleGuid(snapshot, "command queue consumer");
        var bodyCreator = CustomRoleGuid(snapshot, "message body creator");
        var roles = snapshot.RoleAssignments().ToList();

        foreach (var (relay, siteId) in Relays)
        {
            var granted = roles.Where(r => r.PrincipalId == relay).Select(r => (r.ScopeId, r.RoleId)).Order().ToList();
            (string, string)[] expected =
            [
                (queues[ResourceNames.CommandQueueFor(siteId)], consumer),
                (queues[ResourceNames.PoisonQueueFor(siteId)], MessageSender),
                (queues[ResourceNames.EventsQueueFor(siteId)], MessageSender),
                (containers[ResourceNames.MessageBodiesContainer], bodyCreator),
            ];
            Assert.Equal(expected.Order(), granted);
        }

        var relayRoles = roles.Where(r => r.PrincipalId is NordRelay or EstRelay).ToList();
        Assert.Equal(8, relayRoles.Count);
        // Staging: no relay holds anything on any site's container, its own included; only the app holds a role there.
        var staging = containers.Where(c => c.Key.StartsWith(ResourceNames.StagingContainerPrefix, StringComparison.Ordinal)).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(SiteIds.Select(ResourceNames.StagingContainerFor).Order(StringComparer.Ordinal), containers.Keys.Where(k => k.StartsWith(ResourceNames.StagingContainerPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(relayRoles, r => staging.Contains(r.ScopeId));
        var appName = snapshot.SingleOfType("Microsoft.Web/sites").Name;
        Assert.All(roles.Where(r => staging.Contains(r.ScopeId)), r => Assert.Contains($"Microsoft.Web/sites/{appName}'", r.PrincipalId, StringComparison.Ordinal));
        // The site without a relay: no relay holds anything on its queues.
        Assert.DoesNotContain(relayRoles, r => ScopeOfSite(r.ScopeId, "clinique-sud"));
    }

    [Fact]
    public async Task Every_relay_queue_grant_is_at_queue_scope_on_its_own_sites_queues_and_none_is_at_account_scope()
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(ScenarioFile());
        var storage = snapshot.AppStorage().Id;
        var queuePrefix = storage + "/queueServices/default/queues/";
        var messageBodies = $"{storage}/blobServices/default/containers/{ResourceNames.MessageBodiesContainer}";
        var roles = snapshot.RoleAssignments().ToList();

        foreach (var (relay, siteId) in Relays)
        {
            var granted = roles.Where(r => r.PrincipalId == relay).ToList();
            Assert.NotEmpty(granted);
            Assert.DoesNotContain(granted, r => r.ScopeId == storage || !r.ScopeId.StartsWith(storage + "/", StringComparison.Ordinal));

            // Every grant but the create-only one on message-bodies names one queue, and that queue is one of its own site's.
            var ownQueues = new[] { ResourceNames.CommandQueueFor(siteId), ResourceNames.PoisonQueueFor(siteId), ResourceNames.EventsQueueFor(siteId) };
            var queueGrants = granted.Where(r => r.ScopeId != messageBodies).ToList();
            Assert.Equal(3, queueGrants.Count);
            Assert.All(queueGrants, r =>
            {
                Assert.StartsWith(queuePrefix, r.ScopeId, StringComparison.Ordinal);
                Assert.Contains(r.ScopeId[queuePrefix.Length..], ownQueues);
            });

            // Nothing on any other site's queues, nor on any events poison queue (the app and the Functions host fill those).
            foreach (var other in SiteIds.Where(s => s != siteId))
            {
                Assert.DoesNotContain(granted, r => ScopeOfSite(r.ScopeId, other));
            }

            Assert.DoesNotContain(granted, r => r.ScopeId.EndsWith(ResourceNames.PoisonQueueSuffix, StringComparison.Ordinal) && r.ScopeId.Contains(ResourceNames.EventsQueuePrefix, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Relay_custom_roles_hold_only_the_data_actions_they_need_and_are_assignable_in_the_resource_group_only()
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(ScenarioFile());

        var definitions = snapshot.OfType(RoleDefinitionType).ToList();
        Assert.Equal(2, definitions.Count);
        AssertPermissions(Single(snapshot, "command queue consumer"), ConsumerDataActions);
        AssertPermissions(Single(snapshot, "message body creator"), BodyCreatorDataActions);
    }

    [Fact]
    public async Task Without_a_provisioned_relay_no_custom_role_is_defined()
    {
        var snapshot = await InfraWorkspace.SnapshotAsync("params/dev.bicepparam");

        Assert.Empty(snapshot.OfType(RoleDefinitionType));
    }

    private static void AssertPermissions(PredictedResource definition, string[] expectedDataActions)
    {
        var permissions = definition.NodeAt("properties.permissions")!.AsArray().Single()!;
        var dataActions = permissions["dataActions"]!.AsArray().Select(a => a!.GetValue<string>()).Order(StringComparer.Ordinal);
        Assert.Equal(expectedDataActions.Order(StringComparer.Ordinal), dataActions);
        Assert.Empty(permissions["actions"]!.AsArray());
        var scopes = definition.NodeAt("properties.assignableScopes")!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        var scope = Assert.Single(scopes);
        Assert.Matches("^/subscriptions/[^/]+/resourceGroups/[^/]+$", scope);
    }

    private static readonly (string Principal, string SiteId)[] Relays = [(NordRelay, "chu-nord"), (EstRelay, "ch-est")];

    private static readonly string[] SiteIds = ["chu-nord", "clinique-sud", "ch-est"];

    /// <summary>True when <paramref name="scopeId"/> is one of <paramref name="siteId"/>'s four queues.</summary>
    private static bool ScopeOfSite(string scopeId, string siteId)
    {
        var queue = scopeId[(scopeId.LastIndexOf('/') + 1)..];
        return scopeId.Contains("/queueServices/default/queues/", StringComparison.Ordinal)
            && (queue == ResourceNames.CommandQueueFor(siteId) || queue == ResourceNames.PoisonQueueFor(siteId)
                || queue == ResourceNames.EventsQueueFor(siteId) || queue == ResourceNames.EventsPoisonQueueFor(siteId));
    }

    private static PredictedResource Single(DeploymentSnapshot snapshot, string roleNamePart) =>
        Assert.Single(snapshot.OfType(RoleDefinitionType), d => (d.StringAt("properties.roleName") ?? string.Empty).Contains(roleNamePart, StringComparison.Ordinal));

    private static string CustomRoleGuid(DeploymentSnapshot snapshot, string roleNamePart) => Single(snapshot, roleNamePart).ShortName;

    private static string ScenarioFile() => InfraWorkspace.AddTestParameterFile(
        "params/relay-scenario.test.bicepparam",
        [$"{{ id: 'chu-nord', relayPrincipalId: '{NordRelay}' }}", "{ id: 'clinique-sud' }", $"{{ id: 'ch-est', relayPrincipalId: '{EstRelay}' }}"],
        "param location = 'francecentral'");
}
