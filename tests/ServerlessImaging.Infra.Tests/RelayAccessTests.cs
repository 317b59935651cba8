using ServerlessImaging.Contracts;
using ServerlessImaging.Infra.Tests.Bicep;

namespace ServerlessImaging.Infra.Tests;

/// <summary>
/// A site given a relay principal gets exactly two queue roles: take messages from its own
/// command queue, send to the events queue. No blob rights (staging uploads use a SAS the app
/// issues) and nothing on other sites' queues.
/// </summary>
public sealed class RelayAccessTests
{
    private const string MessageProcessor = "8a0f0c08-91a1-4084-bc3d-661d67233fed";
    private const string MessageSender = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a";
    private const string NordRelay = "aaaaaaaa-0000-0000-0000-000000000001";
    private const string EstRelay = "aaaaaaaa-0000-0000-0000-000000000003";

    [Fact]
    public async Task Each_provisioned_relay_can_use_only_its_own_command_queue_and_the_events_queue()
    {
        var file = InfraWorkspace.AddParameterFile("params/relay-scenario.test.bicepparam", $$"""
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

        var snapshot = await InfraWorkspace.SnapshotAsync(file);
        var queues = snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").ToDictionary(q => q.ShortName, q => q.Id, StringComparer.Ordinal);
        var roles = snapshot.RoleAssignments().ToList();

        foreach (var (relay, siteId) in new[] { (NordRelay, "chu-nord"), (EstRelay, "ch-est") })
        {
            var granted = roles.Where(r => r.PrincipalId == relay).Select(r => (r.ScopeId, r.RoleId)).Order().ToList();
            (string, string)[] expected =
            [
                (queues[ResourceNames.CommandQueueFor(siteId)], MessageProcessor),
                (queues[ResourceNames.RelayEventsQueue], MessageSender),
            ];
            Assert.Equal(expected.Order(), granted);
        }

        Assert.Equal(4, roles.Count(r => r.PrincipalId is NordRelay or EstRelay));
        Assert.DoesNotContain(roles, r => r.ScopeId == queues[ResourceNames.CommandQueueFor("clinique-sud")]);
    }
}
