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
    public async Task Queues_are_each_sites_command_and_events_queues_with_their_poison_queues_and_the_task_hub_queues(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await SiteIdsAsync(file);

        var queues = snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(q => q.ShortName).Order(StringComparer.Ordinal).ToList();
        var expected = siteIds
            .SelectMany(id => new[] { ResourceNames.CommandQueueFor(id), ResourceNames.PoisonQueueFor(id), ResourceNames.EventsQueueFor(id), ResourceNames.EventsPoisonQueueFor(id) })
            .Concat(DurableTaskHubTests.TaskHubQueues)
            .Order(StringComparer.Ordinal);

        Assert.Equal(expected, queues);
        // The shared events queue is gone: no relay can post events where another site's would land.
        Assert.DoesNotContain("relay-events", queues);
        Assert.DoesNotContain("relay-events-poison", queues);
        Assert.All(siteIds, id => Assert.Equal(ResourceNames.PoisonQueueOf(ResourceNames.EventsQueueFor(id)), ResourceNames.EventsPoisonQueueFor(id)));
    }

    [Theory]
    [InlineData("relay-commands-chu-nord", "relay-poison-chu-nord")]
    [InlineData("relay-events-chu-nord", "relay-events-chu-nord-poison")]
    [InlineData("a-queue-name-of-exactly-sixty-three-characters-xxxxxxxxxxxxxxxx", "a-queue-name-of-exactly-sixty-three-characters-xxxxxxxxx-poison")]
    public void Poison_queue_names_of_resource_names_match_what_the_messaging_channel_uses(string queue, string poison)
    {
        Assert.Equal(poison, ResourceNames.PoisonQueueOf(queue));
        Assert.Equal(poison, ServerlessImaging.Messaging.Channel.PoisonQueues.For(queue));
        Assert.True(poison.Length <= 63);
    }

    [Fact]
    public void The_longest_site_id_names_an_events_poison_queue_of_63_characters_that_every_quarantining_party_agrees_on()
    {
        var longest = "s" + new string('0', ResourceNames.MaxSiteIdLength - 2) + "t";

        Assert.Equal(43, ResourceNames.MaxSiteIdLength);
        Assert.True(ResourceNames.IsValidSiteId(longest));
        Assert.False(ResourceNames.IsValidSiteId(longest + "u"));
        // The Functions host names a trigger queue's poison queue <queue>-poison, uncut: the name must fit as it is, and
        // the app's quarantine and the Messaging channel must pick the same queue.
        var events = ResourceNames.EventsQueueFor(longest);
        var poison = ResourceNames.EventsPoisonQueueFor(longest);
        Assert.Equal(63, poison.Length);
        Assert.Equal(events + "-poison", poison);
        Assert.Equal(poison, ResourceNames.PoisonQueueOf(events));
        Assert.Equal(poison, ServerlessImaging.Messaging.Channel.PoisonQueues.For(events));
        Assert.Throws<ArgumentException>(() => ResourceNames.EventsQueueFor(longest + "u"));
        // The site's staging container fits the 63-character container-name limit too.
        Assert.True(ResourceNames.StagingContainerFor(longest).Length <= 63);
    }

    [Theory]
    [InlineData(43, true)]
    [InlineData(44, false)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    public async Task The_templates_site_type_accepts_the_site_ids_resource_names_accepts(int length, bool accepted)
    {
        var id = length == 1 ? "s" : "s" + new string('0', length - 2) + "t";
        Assert.Equal(accepted, ResourceNames.IsValidSiteId(id));
        var file = InfraWorkspace.AddTestParameterFile($"params/site-id-{length}.test.bicepparam", [$"{{ id: '{id}' }}"]);

        var output = Path.Combine(InfraWorkspace.NewOutputDirectory(), "parameters.json");
        var result = await BicepCli.RunAsync(InfraWorkspace.WorkingDirectory, "build-params", InfraWorkspace.PathOf(file), "--outfile", output);

        Assert.True(accepted == (result.ExitCode == 0), $"site id of {length} characters: bicep build-params exited {result.ExitCode}:\n{result.Output}");
        if (!accepted)
        {
            Assert.Contains(length > 2 ? "maximum allowable length is 43" : "minimum allowable length is 2", result.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Blob_containers_are_each_sites_staging_container_message_bodies_and_instance_lists_with_no_shared_staging(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await SiteIdsAsync(file);

        var containers = snapshot.OfType(ContainerType).Select(c => c.ShortName).ToList();
        Assert.Equal(
            siteIds.Select(ResourceNames.StagingContainerFor).Order(StringComparer.Ordinal),
            containers.Where(c => c.StartsWith(ResourceNames.StagingContainerPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        // The shared container is gone: a relay's SAS can name its own site's container only.
        Assert.DoesNotContain("staging", containers);
        Assert.Contains(ResourceNames.MessageBodiesContainer, containers);
        Assert.Contains(ResourceNames.InstanceListsContainer, containers);
        Assert.All(snapshot.OfType(ContainerType), c => Assert.Equal("None", c.StringAt("properties.publicAccess")));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Lifecycle_rules_expire_every_sites_staging_container_the_instance_lists_and_message_bodies(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var siteIds = await SiteIdsAsync(file);
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);

        var retentionDays = parameters["stagingRetentionDays"]?["value"]?.GetValue<int>();
        AssertStagingExpires(snapshot, siteIds, retentionDays);
        var rules = LifecycleRules(snapshot);
        var bodies = Assert.Single(rules, r => Prefixes(r).Contains(ResourceNames.MessageBodiesContainer + "/"));
        Assert.NotNull(bodies["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterModificationGreaterThan"]);
        var lists = Assert.Single(rules, r => Prefixes(r).Contains(ResourceNames.InstanceListsContainer + "/"));
        Assert.NotNull(lists["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterModificationGreaterThan"]);
    }

    [Fact]
    public async Task Lifecycle_rules_cover_every_staging_container_beyond_the_ten_prefixes_one_rule_takes()
    {
        // 23 sites: three staging rules (10, 10 and 3 prefixes), where one rule would be refused by the service.
        var siteIds = Enumerable.Range(1, 23).Select(i => $"site-{i:00}").ToList();
        var file = InfraWorkspace.AddTestParameterFile("params/many-sites.test.bicepparam", siteIds.Select(id => $"{{ id: '{id}' }}"), "param stagingRetentionDays = 3");
        var snapshot = await InfraWorkspace.SnapshotAsync(file);

        AssertStagingExpires(snapshot, siteIds, 3);
        Assert.Equal(siteIds.Count, snapshot.OfType(ContainerType).Count(c => c.ShortName.StartsWith(ResourceNames.StagingContainerPrefix, StringComparison.Ordinal)));
    }

    private const string ContainerType = "Microsoft.Storage/storageAccounts/blobServices/containers";

    /// <summary>
    /// Each site's staging container is named by exactly one enabled rule that deletes its blobs and snapshots
    /// (<paramref name="retentionDays"/> after the last write, when the parameter file sets it); its prefix ends with '/'
    /// so that it names that container only; no rule names the old shared container; and the policy stays within the
    /// service's limits (10 prefixes a rule, 100 rules).
    /// </summary>
    private static void AssertStagingExpires(DeploymentSnapshot snapshot, IReadOnlyList<string> siteIds, int? retentionDays)
    {
        var rules = LifecycleRules(snapshot);
        Assert.InRange(rules.Count, 1, 100);
        Assert.All(rules, r => Assert.InRange(Prefixes(r).Count, 1, 10));
        Assert.DoesNotContain(rules, r => Prefixes(r).Any(p => p.StartsWith("staging/", StringComparison.Ordinal)));

        foreach (var id in siteIds)
        {
            var rule = Assert.Single(rules, r => Prefixes(r).Contains(ResourceNames.StagingContainerFor(id) + "/"));
            Assert.NotEqual(false, rule["enabled"]?.GetValue<bool>());
            var actions = rule["definition"]!["actions"]!;
            var afterWrite = actions["baseBlob"]?["delete"]?["daysAfterModificationGreaterThan"]?.GetValue<int>();
            var snapshots = actions["snapshot"]?["delete"]?["daysAfterCreationGreaterThan"]?.GetValue<int>();
            Assert.NotNull(afterWrite);
            Assert.NotNull(snapshots);
            if (retentionDays is { } days)
            {
                Assert.Equal(days, afterWrite);
                Assert.Equal(days, snapshots);
            }
        }

        // Every staging prefix names one site's container: none is left over from a site no longer deployed.
        var stagingPrefixes = rules.SelectMany(Prefixes).Where(p => p.StartsWith(ResourceNames.StagingContainerPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(siteIds.Select(id => ResourceNames.StagingContainerFor(id) + "/").Order(StringComparer.Ordinal), stagingPrefixes);
    }

    private static List<JsonNode> LifecycleRules(DeploymentSnapshot snapshot) =>
        snapshot.SingleOfType("Microsoft.Storage/storageAccounts/managementPolicies").NodeAt("properties.policy.rules")!.AsArray().Select(r => r!).ToList();

    private static List<string> Prefixes(JsonNode rule) =>
        rule["definition"]?["filters"]?["prefixMatch"]?.AsArray().Select(p => p!.GetValue<string>()).ToList() ?? [];

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
