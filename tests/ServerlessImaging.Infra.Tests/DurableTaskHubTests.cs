using System.Text.Json.Nodes;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The function app runs the .NET isolated worker with the Durable Functions extension on the Azure Storage
/// backend, on the app's own storage account, through the identity-based connection "Storage": the connection has
/// every endpoint the extension and the queue triggers need, the task hub's containers and queues exist, the app's
/// identity holds the storage data roles the provider needs on each of them (tables alone at account scope), tables are
/// reached over their own private endpoint with private networking, and host.json names the hub, connection and
/// partition count the template provisions.
/// </summary>
public sealed class DurableTaskHubTests
{
    /// <summary>extensions.durableTask.hubName; the provider lower-cases it for container and queue names.</summary>
    private const string HubName = "ServerlessImaging";
    private const string ConnectionName = "Storage";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";

    /// <summary>Containers DurableTask.AzureStorage uses: partition leases, large messages, app lease.</summary>
    private static readonly string[] HubContainers = ["serverlessimaging-leases", "serverlessimaging-largemessages", "serverlessimaging-applease"];

    /// <summary>The Durable extension's partition count when host.json sets none: one control queue per partition.</summary>
    private const int DefaultPartitionCount = 4;

    /// <summary>Queues DurableTask.AzureStorage uses: &lt;hub&gt;-control-00.. (one per partition) and &lt;hub&gt;-workitems.</summary>
    internal static readonly string[] TaskHubQueues =
        [.. Enumerable.Range(0, DefaultPartitionCount).Select(i => $"serverlessimaging-control-{i:00}"), "serverlessimaging-workitems"];

    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Function_app_runs_the_dotnet_isolated_worker_on_dotnet_10_configured_by_the_flex_runtime_only(string file)
    {
        var app = (await InfraWorkspace.SnapshotAsync(file)).SingleOfType("Microsoft.Web/sites");
        var settings = await ResourceNamesContractTests.AppSettingsAsync(file);

        Assert.Equal("dotnet-isolated", app.StringAt("properties.functionAppConfig.runtime.name"));
        Assert.Equal("10.0", app.StringAt("properties.functionAppConfig.runtime.version"));
        // Flex Consumption takes the worker and its version from functionAppConfig and the package from deployment storage; it refuses these.
        string[] refusedOnFlex = ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE"];
        Assert.All(refusedOnFlex, name => Assert.DoesNotContain(name, settings.Keys, StringComparer.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Storage_connection_has_the_blob_queue_and_table_endpoints_of_the_app_storage_account_and_managed_identity(string file)
    {
        var storage = (await InfraWorkspace.SnapshotAsync(file)).AppStorage().Id;
        var settings = await ResourceNamesContractTests.AppSettingsAsync(file);

        // The host resolves connection properties case-insensitively: Storage__TableServiceUri is its tableServiceUri.
        foreach (var (property, endpoint) in new[] { ("blobServiceUri", "blob"), ("queueServiceUri", "queue"), ("tableServiceUri", "table") })
        {
            var value = SettingIgnoringCase(settings, $"{ConnectionName}__{property}");
            Assert.StartsWith($"[reference('{storage}'", value, StringComparison.Ordinal);
            Assert.EndsWith($".primaryEndpoints.{endpoint}]", value, StringComparison.Ordinal);
        }

        Assert.Equal("managedidentity", SettingIgnoringCase(settings, $"{ConnectionName}__credential"));
        Assert.Equal("managedidentity", SettingIgnoringCase(settings, "AzureWebJobsStorage__credential"));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task App_setting_names_are_unique_ignoring_case(string file)
    {
        // App Service treats setting names case-insensitively: two names differing only in case fail the deployment.
        var settings = await ResourceNamesContractTests.AppSettingsAsync(file);

        var clashes = settings.Keys.GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => string.Join(" / ", g)).ToList();
        Assert.True(clashes.Count == 0, $"{file}: settings differ only in case: {string.Join(", ", clashes)}");
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Task_hub_containers_and_queues_exist_and_the_app_holds_exactly_the_storage_data_roles_the_provider_needs(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var storage = snapshot.AppStorage().Id;
        var appName = snapshot.SingleOfType("Microsoft.Web/sites").Name;
        var containers = snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").ToDictionary(c => c.ShortName, c => c.Id, StringComparer.Ordinal);
        var queues = snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").ToDictionary(q => q.ShortName, q => q.Id, StringComparer.Ordinal);
        var appRoles = snapshot.RoleAssignments().Where(r => r.PrincipalId.Contains($"Microsoft.Web/sites/{appName}'", StringComparison.Ordinal)).ToList();
        var hubPrefix = HubName.ToLowerInvariant() + "-";

        Assert.Equal(HubContainers.Order(StringComparer.Ordinal), containers.Keys.Where(k => k.StartsWith(hubPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(TaskHubQueues.Order(StringComparer.Ordinal), queues.Keys.Where(k => k.StartsWith(hubPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        // Blobs: leases and large messages, on the task hub's containers only (never a blob role on the whole account).
        Assert.All(HubContainers, name => Assert.Single(appRoles, r => r.ScopeId == containers[name] && r.RoleId == BlobDataContributor));
        // Queues: the control and work-item queues, each on its own; the provider's create-if-missing finds them.
        Assert.All(TaskHubQueues, name => Assert.Single(appRoles, r => r.ScopeId == queues[name] && r.RoleId == QueueDataContributor));
        // Tables (Instances, History, Partitions; the provider lists tables to find Partitions) at account scope.
        Assert.Single(appRoles, r => r.ScopeId == storage && r.RoleId == TableDataContributor);
        Assert.DoesNotContain(appRoles, r => r.ScopeId == storage && r.RoleId is BlobDataContributor or QueueDataContributor);

        // Only the app reaches the task hub: no other principal holds a table role or anything on its containers or queues.
        var others = snapshot.RoleAssignments().Except(appRoles).ToList();
        Assert.DoesNotContain(others, r => r.RoleId == TableDataContributor);
        Assert.DoesNotContain(others, r => HubContainers.Any(name => r.ScopeId == containers[name]));
        Assert.DoesNotContain(others, r => TaskHubQueues.Any(name => r.ScopeId == queues[name]));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task With_private_networking_tables_are_reached_through_their_own_private_endpoint_and_dns_zone(string file)
    {
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);
        var isPrivate = parameters["enablePrivateNetworking"]!["value"]!.GetValue<bool>();
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var storage = snapshot.AppStorage().Id;
        var storageEndpoints = snapshot.OfType("Microsoft.Network/privateEndpoints")
            .Where(e => Connection(e)["privateLinkServiceId"]!.GetValue<string>() == storage)
            .ToDictionary(e => Connection(e)["groupIds"]!.AsArray().Single()!.GetValue<string>(), e => e, StringComparer.Ordinal);

        if (!isPrivate)
        {
            Assert.Empty(storageEndpoints);
            _ = snapshot.SingleOfType("Microsoft.Storage/storageAccounts/tableServices");
            return;
        }

        Assert.Equal(["blob", "queue", "table"], storageEndpoints.Keys.Order(StringComparer.Ordinal));
        var table = storageEndpoints["table"];
        var zoneGroup = Assert.Single(snapshot.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"), g => g.Name.StartsWith(table.Name + "/", StringComparison.Ordinal));
        var zoneId = zoneGroup.NodeAt("properties.privateDnsZoneConfigs")!.AsArray().Single()!["properties"]!["privateDnsZoneId"]!.GetValue<string>();
        Assert.Contains("privatelink.table.", zoneId, StringComparison.Ordinal);
        Assert.Single(snapshot.OfType("Microsoft.Network/privateDnsZones"), z => z.Name.Contains("privatelink.table.", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_json_names_the_task_hub_connection_and_partition_count_the_template_provisions()
    {
        var path = Path.Combine(Path.GetDirectoryName(InfraWorkspace.SourceDirectory)!, "host.json");
        var host = JsonNode.Parse(File.ReadAllText(path))!.AsObject();

        Assert.False(host.ContainsKey("customHandler"), "host.json still configures a custom handler; the app is a .NET isolated worker.");
        var durable = host["extensions"]?["durableTask"];
        Assert.True(durable is not null, "host.json has no extensions.durableTask section.");
        Assert.Equal(HubName, durable!["hubName"]?.GetValue<string>());
        Assert.Equal("AzureStorage", durable["storageProvider"]?["type"]?.GetValue<string>());
        Assert.Equal(ConnectionName, durable["storageProvider"]?["connectionName"]?.GetValue<string>());
        // The template creates one control queue per partition and scopes the app's queue role to each: a partition count
        // set in host.json must match it (the app could not use a control queue the template did not create).
        var partitionCount = durable["storageProvider"]?["partitionCount"]?.GetValue<int>() ?? DefaultPartitionCount;
        Assert.Equal(DefaultPartitionCount, partitionCount);
    }

    private static JsonNode Connection(PredictedResource endpoint) =>
        endpoint.NodeAt("properties.privateLinkServiceConnections")!.AsArray().Single()!["properties"]!;

    private static string SettingIgnoringCase(Dictionary<string, string> settings, string name)
    {
        var matches = settings.Where(s => string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(matches.Count == 1, $"Expected one app setting {name} (any case), found {matches.Count}.");
        return matches[0].Value;
    }
}
