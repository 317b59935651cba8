using ServerlessImaging.Cloud.Configuration;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>The ATNA collector's settings: address and port from the parameters, the CA from Key Vault, nothing else.</summary>
public sealed class AtnaCollectorSettingsTests
{
    public static TheoryData<string> ParameterFiles => InfraWorkspace.ParameterFiles;

    [Theory]
    [MemberData(nameof(ParameterFiles))]
    public async Task The_collector_is_named_by_the_parameters_and_its_CA_is_a_Key_Vault_reference(string file)
    {
        var settings = await ResourceNamesContractTests.AppSettingsAsync(file);
        var parameters = await InfraWorkspace.ParameterValuesAsync(file);
        var host = parameters["atnaHost"]?["value"]?.ToString();
        Assert.False(string.IsNullOrWhiteSpace(host), $"{file}: every deployment exports its audit trail (HDS traceability)");

        Assert.Equal(host, settings[CloudAppSettings.AuditAtnaHost]);
        Assert.True(int.TryParse(settings[CloudAppSettings.AuditAtnaPort], out var port) && port is > 0 and < 65536, settings[CloudAppSettings.AuditAtnaPort]);
        var ca = settings[CloudAppSettings.AuditAtnaCaCertificatePem];
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", ca, StringComparison.Ordinal); // an ARM format() expression until deployed
        Assert.Contains("secrets/atna-collector-ca", ca, StringComparison.Ordinal);
        Assert.DoesNotContain(settings, s => s.Value.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal) || s.Value.Contains("PRIVATE KEY", StringComparison.Ordinal));

        // The app reads every ATNA setting the template sets (and a file path has no meaning on the Functions host).
        var atna = settings.Keys.Where(k => k.StartsWith("Audit__Atna__", StringComparison.Ordinal)).ToList();
        Assert.All(atna, name => Assert.Contains(name, CloudAppSettings.Optional));
        Assert.DoesNotContain(CloudAppSettings.AuditAtnaCaCertificatePath, atna);
    }
}
