using System.Text.RegularExpressions;
using ServerlessImaging.Contracts;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The function app's identity, in the predicted deployment of every parameter file: each queue role on one queue
/// (send on the sites' command queues and events poison queues, receive/process on the sites' events queues and the
/// task hub's queues, nothing on the relays' poison queues, nothing on the account); on Cosmos DB, an audit role that
/// creates and reads only, assigned on the audit container alone, and the built-in contributor on each other
/// container; Blob Data Contributor on each site's staging container, with the blob delegator (no data access) as its
/// only blob role above a container; and no more than Blob Data Contributor on the function package container.
/// </summary>
public sealed partial class AppAccessTests
{
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string QueueMessageSender = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string BlobDelegator = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a";
    private const string CosmosDataContributor = "00000000-0000-0000-0000-000000000002";
    private const string QueuesSegment = "/queueServices/default/queues/";

    /// <summary>What the app does with audit records: create them, read and query them. Nothing else.</summary>
    private static readonly string[] AuditDataActions =
    [
        "Microsoft.DocumentDB/databaseAccounts/readMetadata",
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery",
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create",
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read",
        "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed",
    ];

    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task App_queue_roles_are_each_on_one_queue_with_the_least_role_its_use_needs(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await ResourceNamesContractTests.SiteIdsAsync(file);
        var storage = snapshot.AppStorage().Id;
        var queueRoles = AppRoles(snapshot).Where(r => r.RoleId is QueueDataContributor or QueueMessageSender).ToList();

        var expected = siteIds
            .SelectMany(id => new[]
            {
                (ResourceNames.CommandQueueFor(id), QueueMessageSender),
                (ResourceNames.EventsQueueFor(id), QueueDataContributor),
                (ResourceNames.EventsPoisonQueueFor(id), QueueMessageSender),
            })
            .Concat(DurableTaskHubTests.TaskHubQueues.Select(name => (name, QueueDataContributor)))
            .Order();
        var granted = queueRoles.Select(r =>
        {
            Assert.StartsWith(storage + QueuesSegment, r.ScopeId, StringComparison.Ordinal);
            return (r.ScopeId[(storage + QueuesSegment).Length..], r.RoleId);
        }).Order();

        Assert.Equal(expected, granted);
        Assert.DoesNotContain(AppRoles(snapshot), r => r.ScopeId == storage && r.RoleId is QueueDataContributor or QueueMessageSender);
        // The relays' poison queues are theirs and the operators': the app neither reads nor writes them.
        Assert.All(siteIds, id => Assert.DoesNotContain(AppRoles(snapshot), r => r.ScopeId.EndsWith(QueuesSegment + ResourceNames.PoisonQueueFor(id), StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task App_holds_blob_data_contributor_on_each_sites_staging_container_and_only_the_delegator_above_a_container(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await ResourceNamesContractTests.SiteIdsAsync(file);
        var storage = snapshot.AppStorage().Id;
        var containersSegment = storage + "/blobServices/default/containers/";
        var appRoles = AppRoles(snapshot);

        // Reads, lists and deletes in every site's staging container (store activity, deletion, purge): one grant on each
        // container, none on a container of no site.
        var onStaging = appRoles
            .Where(r => r.ScopeId.StartsWith(containersSegment + ResourceNames.StagingContainerPrefix, StringComparison.Ordinal))
            .Select(r => (r.ScopeId[containersSegment.Length..], r.RoleId))
            .Order();
        Assert.Equal(siteIds.Select(id => (ResourceNames.StagingContainerFor(id), BlobDataContributor)).Order(), onStaging);

        // Above a container, only what Get User Delegation Key needs: it is an account-level operation, so the delegator
        // (generateUserDelegationKey, no data action) is on the account; nothing on the blob service. (That the account
        // carries no other storage role: SecurityBaselineTests.)
        Assert.Single(appRoles, r => r.ScopeId == storage && r.RoleId == BlobDelegator);
        Assert.DoesNotContain(appRoles, r => r.ScopeId == storage + "/blobServices/default");
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Audit_role_creates_and_reads_only_and_is_assigned_on_the_audit_container_alone(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var cosmos = snapshot.SingleOfType("Microsoft.DocumentDB/databaseAccounts").Id;
        var auditScope = $"{cosmos}/dbs/{ResourceNames.CosmosDatabase}/colls/audit";

        var definition = Assert.Single(snapshot.OfType("Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions"));
        Assert.Equal("CustomRole", definition.StringAt("properties.type"));
        var permission = Assert.Single(definition.NodeAt("properties.permissions")!.AsArray())!;
        var dataActions = permission["dataActions"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Equal(AuditDataActions, dataActions.Order(StringComparer.Ordinal));
        // Whatever the list: nothing that changes or removes an item, and no wildcard that could grow into it.
        Assert.All(dataActions, action =>
        {
            Assert.DoesNotContain("*", action, StringComparison.Ordinal);
            foreach (var verb in new[] { "replace", "upsert", "delete", "write", "patch" })
            {
                Assert.DoesNotContain(verb, action, StringComparison.OrdinalIgnoreCase);
            }
        });
        Assert.Null(permission["notDataActions"]); // Cosmos DB's RBAC does not support it: the listed actions are all there is
        Assert.Equal(new[] { auditScope }, definition.NodeAt("properties.assignableScopes")!.AsArray().Select(s => s!.GetValue<string>()));

        var onAudit = Assert.Single(CosmosAssignments(snapshot), a => a.Scope == auditScope);
        Assert.Equal(definition.Id, onAudit.RoleDefinitionId);
        Assert.Contains($"Microsoft.Web/sites/{AppName(snapshot)}'", onAudit.PrincipalId, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Every_other_container_gets_the_built_in_contributor_on_itself_and_nothing_is_granted_on_the_database_or_account(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var cosmos = snapshot.SingleOfType("Microsoft.DocumentDB/databaseAccounts").Id;
        var database = $"{cosmos}/dbs/{ResourceNames.CosmosDatabase}";
        var assignments = CosmosAssignments(snapshot).ToList();

        var others = ResourceNames.CosmosContainers.Select(c => c.Name).Where(name => name != "audit").ToList();
        Assert.NotEmpty(others);
        Assert.All(others, name =>
        {
            var onContainer = Assert.Single(assignments, a => a.Scope == $"{database}/colls/{name}");
            Assert.Equal($"{cosmos}/sqlRoleDefinitions/{CosmosDataContributor}", onContainer.RoleDefinitionId);
        });
        Assert.Equal(ResourceNames.CosmosContainers.Count, assignments.Count);
        Assert.DoesNotContain(assignments, a => a.Scope == database || a.Scope == cosmos);
        // The built-in contributor replaces and deletes: it must never reach the audit trail.
        Assert.DoesNotContain(assignments, a => a.Scope == $"{database}/colls/audit" && a.RoleDefinitionId.EndsWith(CosmosDataContributor, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Function_package_container_is_granted_blob_data_contributor_alone_which_flex_deployment_storage_needs(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var storage = snapshot.AppStorage().Id;
        var app = snapshot.SingleOfType("Microsoft.Web/sites");
        // The container URL is <blob endpoint><container>; the endpoint is only known at deployment, so the predicted value
        // is format('{0}{1}', reference(<account>).primaryEndpoints.blob, '<container>').
        var package = app.StringAt("properties.functionAppConfig.deployment.storage.value")!;
        var match = DeploymentContainerUrl().Match(package);
        Assert.True(match.Success, $"Unexpected deployment storage value: {package}");
        Assert.Equal(storage, match.Groups["account"].Value);
        var container = $"{storage}/blobServices/default/containers/{match.Groups["container"].Value}";
        Assert.Contains(snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => c.Id == container);

        Assert.Equal("SystemAssignedIdentity", app.StringAt("properties.functionAppConfig.deployment.storage.authentication.type"));
        var onPackage = AppRoles(snapshot).Where(r => r.ScopeId == container).Select(r => r.RoleId).ToList();
        Assert.Equal(new[] { BlobDataContributor }, onPackage);
    }

    private static string AppName(DeploymentSnapshot snapshot) => snapshot.SingleOfType("Microsoft.Web/sites").Name;

    private static List<(string ScopeId, string RoleId, string PrincipalId)> AppRoles(DeploymentSnapshot snapshot)
    {
        var marker = $"Microsoft.Web/sites/{AppName(snapshot)}'";
        return snapshot.RoleAssignments().Where(r => r.PrincipalId.Contains(marker, StringComparison.Ordinal)).ToList();
    }

    private static IEnumerable<(string Scope, string RoleDefinitionId, string PrincipalId)> CosmosAssignments(DeploymentSnapshot snapshot) =>
        snapshot.OfType("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments").Select(a => (
            a.StringAt("properties.scope")!,
            a.StringAt("properties.roleDefinitionId")!,
            a.StringAt("properties.principalId") ?? string.Empty));

    [GeneratedRegex(@"^\[format\('\{0\}\{1\}', reference\('(?<account>[^']+)'.*\)\.primaryEndpoints\.blob, '(?<container>[a-z0-9-]+)'\)\]$")]
    private static partial Regex DeploymentContainerUrl();
}
