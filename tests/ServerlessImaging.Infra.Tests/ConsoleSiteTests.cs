using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// The web console and the viewer as a storage static website (modules/console-site.bicep): an account of their own,
/// Entra ID only on its data plane, private in the HDS profile, and the only browser origin the API's and the DICOM
/// service's CORS allow.
/// </summary>
public sealed class ConsoleSiteTests
{
    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task The_console_site_is_a_storage_account_of_its_own_with_Entra_ID_only_TLS_1_2_and_no_public_blobs(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var site = snapshot.ConsoleSiteStorage();

        Assert.NotEqual(snapshot.AppStorage().Id, site.Id);
        Assert.Equal("false", site.NodeAt("properties.allowSharedKeyAccess")?.ToString());
        Assert.Equal("false", site.NodeAt("properties.allowBlobPublicAccess")?.ToString());
        Assert.Equal("true", site.NodeAt("properties.supportsHttpsTrafficOnly")?.ToString());
        Assert.Equal("TLS1_2", site.StringAt("properties.minimumTlsVersion"));

        // No role of the app on it: it holds static files only, the app never reads or writes there.
        var appName = snapshot.SingleOfType("Microsoft.Web/sites").Name;
        Assert.DoesNotContain(snapshot.RoleAssignments(), r => r.ScopeId.StartsWith(site.Id, StringComparison.OrdinalIgnoreCase) && r.PrincipalId.Contains(appName, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task With_private_networking_the_website_answers_on_its_private_endpoint_only(string file)
    {
        var isPrivate = (await InfraWorkspace.ParameterValuesAsync(file))["enablePrivateNetworking"]!["value"]!.GetValue<bool>();
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var site = snapshot.ConsoleSiteStorage();
        var web = snapshot.OfType("Microsoft.Network/privateEndpoints")
            .Where(e => e.NodeAt("properties.privateLinkServiceConnections")!.AsArray().Single()!["properties"]!["groupIds"]!.AsArray().Single()!.GetValue<string>() == "web")
            .ToList();

        if (!isPrivate)
        {
            Assert.Empty(web);
            Assert.Equal("Enabled", site.StringAt("properties.publicNetworkAccess"));
            return;
        }

        var endpoint = Assert.Single(web);
        Assert.Equal(site.Id, endpoint.NodeAt("properties.privateLinkServiceConnections")!.AsArray().Single()!["properties"]!["privateLinkServiceId"]!.GetValue<string>(), ignoreCase: true);
        Assert.Equal("Disabled", site.StringAt("properties.publicNetworkAccess"));
        Assert.Equal("Deny", site.StringAt("properties.networkAcls.defaultAction"));
        // The zone's name follows the cloud's storage suffix (an expression until deployment).
        Assert.Contains(snapshot.OfType("Microsoft.Network/privateDnsZones"), z => z.Name.Contains("privatelink.web.", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task The_API_and_the_DICOM_service_allow_the_console_origin_in_CORS_without_credentials_and_the_DICOM_service_for_reads_only(string file)
    {
        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var app = snapshot.SingleOfType("Microsoft.Web/sites");
        var dicom = snapshot.SingleOfType("Microsoft.HealthcareApis/workspaces/dicomservices");

        var appOrigins = app.NodeAt("properties.siteConfig.cors.allowedOrigins")!.AsArray().Select(o => o!.ToString()).ToList();
        var dicomOrigins = dicom.NodeAt("properties.corsConfiguration.origins")!.AsArray().Select(o => o!.ToString()).ToList();
        Assert.NotEmpty(appOrigins);
        Assert.Equal(appOrigins, dicomOrigins);
        Assert.DoesNotContain("*", appOrigins);
        Assert.Equal("false", app.NodeAt("properties.siteConfig.cors.supportCredentials")?.ToString());
        Assert.Equal("false", dicom.NodeAt("properties.corsConfiguration.allowCredentials")?.ToString());
        Assert.Equal(["GET", "OPTIONS"], dicom.NodeAt("properties.corsConfiguration.methods")!.AsArray().Select(m => m!.ToString()).Order(StringComparer.Ordinal));
    }
}
