using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>The audit anchor key: sign and verify only, the app's one grant on it, and the setting that names it.</summary>
public sealed class AuditAnchorKeyTests
{
    private const string KeyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";

    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task The_anchor_key_can_only_sign_and_verify_and_the_app_may_use_that_key_alone(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var key = Assert.Single(snapshot.OfType("Microsoft.KeyVault/vaults/keys"), k => k.ShortName == "audit-anchor");
        Assert.Equal("EC-HSM", key.StringAt("properties.kty"));
        Assert.Equal("P-256", key.StringAt("properties.curveName"));
        Assert.Equal(["sign", "verify"], key.NodeAt("properties.keyOps")!.AsArray().Select(o => o!.GetValue<string>()));

        var grants = snapshot.RoleAssignments().Where(r => r.RoleId == KeyVaultCryptoUser).ToList();
        var grant = Assert.Single(grants);
        Assert.Equal(key.Id, grant.ScopeId);

        var settings = await ResourceNamesContractTests.AppSettingsAsync(file);
        // An ARM expression until deployed: the vault's URI, then keys/ and the key's name.
        var keyId = settings[CloudAppSettings.AuditAnchorKeyId];
        Assert.Contains("keys/", keyId, StringComparison.Ordinal);
        Assert.Contains(".vaultUri, 'audit-anchor')", keyId, StringComparison.Ordinal);
        Assert.Contains(CloudAppSettings.AuditAnchorKeyId, CloudAppSettings.Optional);
    }
}
