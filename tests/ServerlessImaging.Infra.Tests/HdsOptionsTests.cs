using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The HDS switches do what they say, in whichever direction each parameter file sets them:
/// private networking (endpoints, DNS, VNet integration, public access off) and
/// customer-managed keys (key, identity, encryption settings).
/// </summary>
public sealed class HdsOptionsTests
{
    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Fact]
    public async Task Production_parameters_turn_both_HDS_options_on_in_France()
    {
        var parameters = await InfraWorkspace.ParameterValuesAsync("params/prod-hds.bicepparam");

        Assert.True(parameters["enablePrivateNetworking"]!["value"]!.GetValue<bool>());
        Assert.True(parameters["enableCustomerManagedKey"]!["value"]!.GetValue<bool>());
        Assert.StartsWith("france", parameters["location"]!["value"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Private_networking_switch_controls_endpoints_dns_integration_and_public_access(string file)
    {
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);
        var isPrivate = parameters["enablePrivateNetworking"]!["value"]!.GetValue<bool>();
        var snapshot = await InfraWorkspace.SnapshotAsync(file);

        var endpoints = snapshot.OfType("Microsoft.Network/privateEndpoints").ToList();
        var app = snapshot.SingleOfType("Microsoft.Web/sites");
        string[] publicAccessTypes =
        [
            "Microsoft.DocumentDB/databaseAccounts",
            "Microsoft.KeyVault/vaults",
            "Microsoft.HealthcareApis/workspaces",
            "Microsoft.HealthcareApis/workspaces/dicomservices",
        ];
        var publicAccess = publicAccessTypes.Select(t => snapshot.SingleOfType(t).StringAt("properties.publicNetworkAccess")).ToList();

        if (!isPrivate)
        {
            Assert.Empty(endpoints);
            Assert.Empty(snapshot.OfType("Microsoft.Network/virtualNetworks"));
            Assert.All(publicAccess, value => Assert.Equal("Enabled", value));
            return;
        }

        var groups = endpoints.Select(e => e.NodeAt("properties.privateLinkServiceConnections")!.AsArray().Single()!["properties"]!["groupIds"]!.AsArray().Single()!.GetValue<string>());
        Assert.Equal(["Sql", "blob", "healthcareworkspace", "queue", "table", "vault", "web"], groups.Order(StringComparer.Ordinal));
        Assert.Equal(endpoints.Count, snapshot.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Count());
        Assert.Equal(
            snapshot.OfType("Microsoft.Network/privateDnsZones").Count(),
            snapshot.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Count());
        Assert.All(publicAccess, value => Assert.Equal("Disabled", value));
        Assert.Equal("Deny", snapshot.AppStorage().StringAt("properties.networkAcls.defaultAction"));
        Assert.False(string.IsNullOrEmpty(app.StringAt("properties.virtualNetworkSubnetId")), "the app has no VNet integration");
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task Customer_managed_key_switch_controls_key_identity_and_encryption(string file)
    {
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);
        var useCmk = parameters["enableCustomerManagedKey"]!["value"]!.GetValue<bool>();
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var storage = snapshot.AppStorage();

        // The audit anchor key exists either way (AuditAnchorKeyTests); the data-encryption key only with CMK.
        var dataKeys = snapshot.OfType("Microsoft.KeyVault/vaults/keys").Where(k => k.ShortName != "audit-anchor").ToList();
        if (!useCmk)
        {
            Assert.Empty(dataKeys);
            Assert.Equal("Microsoft.Storage", storage.StringAt("properties.encryption.keySource"));
            return;
        }

        var key = Assert.Single(dataKeys);
        Assert.Single(snapshot.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"));
        Assert.Contains(snapshot.RoleAssignments(), r => r.ScopeId == key.Id && r.RoleId == "e147488a-f6f5-4113-8e2d-b22465e65bf6");
        Assert.Equal("Microsoft.Keyvault", storage.StringAt("properties.encryption.keySource"));
        Assert.Equal("UserAssigned", storage.StringAt("identity.type"));
        Assert.Equal("UserAssigned", snapshot.SingleOfType("Microsoft.DocumentDB/databaseAccounts").StringAt("identity.type"));
        Assert.NotNull(snapshot.SingleOfType("Microsoft.HealthcareApis/workspaces/dicomservices").NodeAt("properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl"));
    }
}
