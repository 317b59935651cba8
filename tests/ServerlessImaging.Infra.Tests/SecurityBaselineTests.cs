using ServerlessImaging.Contracts;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The security settings an HDS deployment relies on, read from the predicted deployment of
/// every parameter file: Entra ID only, TLS 1.2, no public blobs, diagnostics everywhere,
/// no storage data role on the whole account for the function app but tables and the SAS delegator
/// (its queue and Cosmos DB grants in detail: AppAccessTests).
/// </summary>
public sealed class SecurityBaselineTests
{
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string BlobDelegator = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string DicomDataOwner = "58a3b984-7adf-4c20-983a-32417c86fbc8";
    private const string Owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    private const string Contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";

    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Storage_accepts_Entra_ID_only_over_TLS_1_2_with_no_public_blobs(string file)
    {
        var storage = (await InfraWorkspace.SnapshotAsync(file)).AppStorage();

        Assert.Equal("false", storage.NodeAt("properties.allowSharedKeyAccess")?.ToString());
        Assert.Equal("false", storage.NodeAt("properties.allowBlobPublicAccess")?.ToString());
        Assert.Equal("true", storage.NodeAt("properties.supportsHttpsTrafficOnly")?.ToString());
        Assert.Equal("TLS1_2", storage.StringAt("properties.minimumTlsVersion"));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Cosmos_disables_local_auth_and_keeps_continuous_backup(string file)
    {
        var cosmos = (await InfraWorkspace.SnapshotAsync(file)).SingleOfType("Microsoft.DocumentDB/databaseAccounts");

        Assert.Equal("true", cosmos.NodeAt("properties.disableLocalAuth")?.ToString());
        Assert.Equal("Tls12", cosmos.StringAt("properties.minimalTlsVersion"));
        Assert.Equal("Continuous", cosmos.StringAt("properties.backupPolicy.type"));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Key_vault_uses_RBAC_and_purge_protection(string file)
    {
        var vault = (await InfraWorkspace.SnapshotAsync(file)).SingleOfType("Microsoft.KeyVault/vaults");

        Assert.Equal("true", vault.NodeAt("properties.enableRbacAuthorization")?.ToString());
        Assert.Equal("true", vault.NodeAt("properties.enablePurgeProtection")?.ToString());
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Function_app_is_a_Linux_Flex_Consumption_dotnet_isolated_app_with_its_own_identity(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var plan = snapshot.SingleOfType("Microsoft.Web/serverfarms");
        var app = snapshot.SingleOfType("Microsoft.Web/sites");

        Assert.Equal("FC1", plan.StringAt("sku.name"));
        Assert.Equal("functionapp,linux", app.StringAt("kind"));
        Assert.Equal("dotnet-isolated", app.StringAt("properties.functionAppConfig.runtime.name"));
        Assert.Equal("SystemAssignedIdentity", app.StringAt("properties.functionAppConfig.deployment.storage.authentication.type"));
        Assert.Equal("SystemAssigned", app.StringAt("identity.type"));
        Assert.Equal("true", app.NodeAt("properties.httpsOnly")?.ToString());
        Assert.Equal("1.2", app.StringAt("properties.siteConfig.minTlsVersion"));
        Assert.Equal("Disabled", app.StringAt("properties.siteConfig.ftpsState"));
        var basicAuth = snapshot.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(["ftp", "scm"], basicAuth.Select(p => p.ShortName).Order(StringComparer.Ordinal));
        Assert.All(basicAuth, p => Assert.Equal("false", p.NodeAt("properties.allow")?.ToString()));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Every_resource_that_supports_diagnostics_sends_them_to_Log_Analytics(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        string[] monitoredTypes =
        [
            "Microsoft.Storage/storageAccounts",
            "Microsoft.Storage/storageAccounts/blobServices",
            "Microsoft.Storage/storageAccounts/queueServices",
            "Microsoft.Storage/storageAccounts/tableServices",
            "Microsoft.DocumentDB/databaseAccounts",
            "Microsoft.KeyVault/vaults",
            "Microsoft.HealthcareApis/workspaces/dicomservices",
            "Microsoft.Web/sites",
            "Microsoft.OperationalInsights/workspaces",
            "Microsoft.Network/virtualNetworks",
        ];
        var workspaceId = snapshot.SingleOfType("Microsoft.OperationalInsights/workspaces").Id;
        var diagnostics = snapshot.OfType("Microsoft.Insights/diagnosticSettings").ToList();

        var monitored = snapshot.Resources.Where(r => monitoredTypes.Contains(r.Type, StringComparer.OrdinalIgnoreCase)).ToList();
        Assert.NotEmpty(monitored);
        Assert.All(monitored, resource =>
        {
            var setting = diagnostics.SingleOrDefault(d => string.Equals(d.ScopeId, resource.Id, StringComparison.OrdinalIgnoreCase));
            Assert.True(setting is not null, $"{resource.Type} {resource.Name} has no diagnostic setting");
            Assert.Equal(workspaceId, setting!.StringAt("properties.workspaceId"));
        });
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Function_app_gets_data_roles_scoped_narrowly_and_no_management_roles(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var storage = snapshot.AppStorage().Id;
        var dicom = snapshot.SingleOfType("Microsoft.HealthcareApis/workspaces/dicomservices").Id;
        var appName = snapshot.SingleOfType("Microsoft.Web/sites").Name;
        var appRoles = snapshot.RoleAssignments().Where(r => r.PrincipalId.Contains($"Microsoft.Web/sites/{appName}'", StringComparison.Ordinal)).ToList();
        var siteIds = await ResourceNamesContractTests.SiteIdsAsync(file);

        // On the account itself: tables (task hub, host diagnostics) and the SAS delegator (no data access by itself), nothing else.
        Assert.Equal(
            new[] { BlobDelegator, TableDataContributor }.Order(StringComparer.Ordinal),
            appRoles.Where(r => r.ScopeId == storage).Select(r => r.RoleId).Order(StringComparer.Ordinal));
        Assert.All(siteIds, id => Assert.Contains(appRoles, r => r.ScopeId == $"{storage}/blobServices/default/containers/{ResourceNames.StagingContainerFor(id)}" && r.RoleId == BlobDataContributor));
        Assert.Contains(appRoles, r => r.ScopeId == $"{storage}/blobServices/default/containers/message-bodies" && r.RoleId == BlobDataContributor);
        Assert.Contains(appRoles, r => r.ScopeId == $"{storage}/blobServices/default/containers/{ResourceNames.InstanceListsContainer}" && r.RoleId == BlobDataContributor);
        Assert.Contains(appRoles, r => r.ScopeId == dicom && r.RoleId == DicomDataOwner);
        Assert.DoesNotContain(snapshot.RoleAssignments(), r => r.RoleId == Owner || r.RoleId == Contributor);
    }
}
