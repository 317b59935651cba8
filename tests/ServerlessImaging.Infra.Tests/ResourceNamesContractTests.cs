using System.Text.Json.Nodes;
using ServerlessImaging.Contracts;
using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The deployment each parameter file produces (bicep snapshot, evaluated offline) matches what
/// the code expects: app settings cover CloudAppSettings.RequiredInAzure, and queues, blob
/// containers, the Cosmos database, its containers and partition keys equal ResourceNames.
/// </summary>
public sealed class ResourceNamesContractTests
{
    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Function_app_settings_cover_every_setting_required_in_Azure(string file)
    {
        var settings = await AppSettingsAsync(file);

        var missing = CloudAppSettings.RequiredInAzure.Where(name => !settings.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, $"{file}: app settings lack {string.Join(", ", missing)}");
        Assert.All(CloudAppSettings.RequiredInAzure, name => Assert.False(string.IsNullOrWhiteSpace(settings[name]), $"{name} is empty"));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task App_settings_name_the_cosmos_database_and_list_every_site(string file)
    {
        var settings = await AppSettingsAsync(file);
        var siteIds = await SiteIdsAsync(file);

        Assert.Equal(ResourceNames.CosmosDatabase, settings[CloudAppSettings.CosmosDatabaseName]);
        Assert.Equal(siteIds, settings[CloudAppSettings.SiteIds].Split(','));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task App_settings_hold_no_keys_and_take_the_smtp_password_from_key_vault(string file)
    {
        var settings = await AppSettingsAsync(file);

        Assert.DoesNotContain(CloudAppSettings.StorageConnectionString, settings.Keys);
        Assert.All(settings, s => Assert.DoesNotContain("AccountKey=", s.Value, StringComparison.OrdinalIgnoreCase));
        Assert.All(settings, s => Assert.DoesNotContain("SharedAccessSignature=", s.Value, StringComparison.OrdinalIgnoreCase));
        if (settings.TryGetValue(CloudAppSettings.SmtpPassword, out var password))
        {
            Assert.Contains("@Microsoft.KeyVault(SecretUri=", password, StringComparison.Ordinal);
            Assert.True(settings.ContainsKey(CloudAppSettings.SmtpUserName), "An SMTP password without a user name is unusable.");
        }
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Site_ids_in_parameter_files_are_valid_queue_name_suffixes(string file)
    {
        var siteIds = await SiteIdsAsync(file);

        Assert.NotEmpty(siteIds);
        Assert.All(siteIds, id => Assert.True(ResourceNames.IsValidSiteId(id), $"{file}: '{id}' is not a valid site id"));
        Assert.Equal(siteIds.Count, siteIds.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Queues_are_the_events_queue_and_each_sites_command_queue_each_with_its_poison_queue(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await SiteIdsAsync(file);

        var queues = snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(q => q.ShortName).Order(StringComparer.Ordinal);
        var working = siteIds.Select(ResourceNames.CommandQueueFor).Append(ResourceNames.RelayEventsQueue).ToList();
        var expected = working.Concat(working.Select(ResourceNames.PoisonQueueOf)).Order(StringComparer.Ordinal);

        Assert.Equal(expected, queues);
        Assert.Contains(ResourceNames.RelayEventsPoisonQueue, queues);
        Assert.All(siteIds, id => Assert.Contains(ResourceNames.PoisonQueueFor(id), queues));
    }

    [Theory]
    [InlineData("relay-commands-chu-nord", "relay-poison-chu-nord")]
    [InlineData("relay-events", "relay-events-poison")]
    [InlineData("a-queue-name-of-exactly-sixty-three-characters-xxxxxxxxxxxxxxxx", "a-queue-name-of-exactly-sixty-three-characters-xxxxxxxxx-poison")]
    public void Poison_queue_names_of_resource_names_match_what_the_messaging_channel_uses(string queue, string poison)
    {
        Assert.Equal(poison, ResourceNames.PoisonQueueOf(queue));
        Assert.Equal(poison, ServerlessImaging.Messaging.Channel.PoisonQueues.For(queue));
        Assert.True(poison.Length <= 63);
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Blob_containers_include_staging_and_message_bodies_and_staging_is_purged(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);

        var containers = snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").Select(c => c.ShortName).ToList();
        Assert.Contains(ResourceNames.StagingContainer, containers);
        Assert.Contains(ResourceNames.MessageBodiesContainer, containers);
        Assert.All(snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => Assert.Equal("None", c.StringAt("properties.publicAccess")));

        var rules = snapshot.SingleOfType("Microsoft.Storage/storageAccounts/managementPolicies").NodeAt("properties.policy.rules")!.AsArray();
        var stagingRule = rules.Single(r => r!["definition"]!["filters"]!["prefixMatch"]!.AsArray().Any(p => p!.GetValue<string>() == ResourceNames.StagingContainer + "/"));
        Assert.NotNull(stagingRule!["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterModificationGreaterThan"]);
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Cosmos_database_containers_and_partition_keys_equal_resource_names(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);

        var database = snapshot.SingleOfType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases");
        Assert.Equal(ResourceNames.CosmosDatabase, database.ShortName);

        var containers = snapshot.OfType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
            .Select(c => (
                Name: c.ShortName,
                PartitionKeyPath: c.NodeAt("properties.resource.partitionKey.paths")!.AsArray().Single()!.GetValue<string>()))
            .OrderBy(c => c.Name, StringComparer.Ordinal);
        var expected = ResourceNames.CosmosContainers.OrderBy(c => c.Name, StringComparer.Ordinal);

        Assert.Equal(expected, containers);
        Assert.All(snapshot.OfType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"), c => Assert.StartsWith(database.Name + "/", c.Name, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Audit_container_has_no_time_to_live(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);

        var audit = snapshot.OfType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers").Single(c => c.ShortName == "audit");

        Assert.Null(audit.NodeAt("properties.resource.defaultTtl"));
    }

    internal static async Task<Dictionary<string, string>> AppSettingsAsync(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var app = snapshot.SingleOfType("Microsoft.Web/sites");
        var settings = app.NodeAt("properties.siteConfig.appSettings") as JsonArray
            ?? throw new Xunit.Sdk.XunitException($"{file}: the function app's appSettings are not a literal list.");
        return settings.ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.ToString(), StringComparer.Ordinal);
    }

    internal static async Task<List<string>> SiteIdsAsync(string file)
    {
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);
        return parameters["sites"]!["value"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ToList();
    }
}
