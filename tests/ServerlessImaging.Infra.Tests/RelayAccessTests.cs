using ServerlessImaging.Contracts;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// A site given a relay principal gets exactly four grants, each on one queue or container of its
/// own: a custom consumer role on its command queue (receive, peek, update — lease renewal), Message
/// Sender on its poison queue and on the events queue, and a custom create-only role on
/// message-bodies. No rights on staging (uploads use a SAS the app issues) and nothing on other
/// sites' queues.
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

        foreach (var (relay, siteId) in new[] { (NordRelay, "chu-nord"), (EstRelay, "ch-est") })
        {
            var granted = roles.Where(r => r.PrincipalId == relay).Select(r => (r.ScopeId, r.RoleId)).Order().ToList();
            (string, string)[] expected =
            [
                (queues[ResourceNames.CommandQueueFor(siteId)], consumer),
                (queues[ResourceNames.PoisonQueueFor(siteId)], MessageSender),
                (queues[ResourceNames.RelayEventsQueue], MessageSender),
                (containers[ResourceNames.MessageBodiesContainer], bodyCreator),
            ];
            Assert.Equal(expected.Order(), granted);
        }

        var relayRoles = roles.Where(r => r.PrincipalId is NordRelay or EstRelay).ToList();
        Assert.Equal(8, relayRoles.Count);
        Assert.DoesNotContain(relayRoles, r => r.ScopeId == containers[ResourceNames.StagingContainer]);
        Assert.DoesNotContain(roles, r => r.ScopeId == queues[ResourceNames.CommandQueueFor("clinique-sud")]);
        Assert.DoesNotContain(roles, r => r.ScopeId == queues[ResourceNames.PoisonQueueFor("clinique-sud")]);
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

    private static PredictedResource Single(DeploymentSnapshot snapshot, string roleNamePart) =>
        Assert.Single(snapshot.OfType(RoleDefinitionType), d => (d.StringAt("properties.roleName") ?? string.Empty).Contains(roleNamePart, StringComparison.Ordinal));

    private static string CustomRoleGuid(DeploymentSnapshot snapshot, string roleNamePart) => Single(snapshot, roleNamePart).ShortName;

    private static string ScenarioFile() => InfraWorkspace.AddParameterFile("params/relay-scenario.test.bicepparam", $$"""
        using '../main.bicep'

        param environmentName = 'test'
        param namePrefix = 'simg'
        param location = 'francecentral'
        param sites = [
          { id: 'chu-nord', relayPrincipalId: '{{NordRelay}}' }
          { id: 'clinique-sud' }
          { id: 'ch-est', relayPrincipalId: '{{EstRelay}}' }
        ]
        param enablePrivateNetworking = false
        param enableCustomerManagedKey = false
        param logRetentionInDays = 30
        param cosmosServerless = true
        param cosmosBackupTier = 'Continuous7Days'
        param zoneRedundant = false
        param apiAudience = 'api://serverless-imaging-test'
        param smtpHost = 'smtp.test.example'
        param smtpPort = 465
        param smtpSecurity = 'SslOnConnect'
        param smtpFrom = 'rcp@test.example'
        param viewerStudyUrlTemplate = 'https://viewer.test.example/{StudyInstanceUID}'
        """);
}
