using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Atna;
using ServerlessImaging.Testing.Atna;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// Issue 18, ATNA export: the records the running API and orchestration really write (HTTP audit middleware, refusal
/// aggregator, orchestration through the trail) become PS3.15 Audit Messages that validate against the standard's schema
/// with xmllint.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AtnaAuditMessageApiTests(LocalStackFixture stack) : IDisposable
{
    private readonly ApiSamples samples = new();
    private readonly string directory = Directory.CreateTempSubdirectory("atna-api-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Every_record_the_API_and_the_orchestration_write_validates_as_a_DICOM_audit_message()
    {
        await using var host = await ApiHost.StartAsync(stack);
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        await Expect(host, host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting()), HttpStatusCode.OK);
        await Expect(host, host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(consent: false)), HttpStatusCode.UnprocessableEntity);
        var (post, accepted) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration(), Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var registrationId = accepted.GetProperty("registrationId").GetString()!;
        await host.SettleAsync(registrationId);
        await Expect(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar), HttpStatusCode.OK);
        await Expect(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Auditor), HttpStatusCode.Forbidden);
        await Expect(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", role: null), HttpStatusCode.Unauthorized);
        await Expect(host, host.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}", ApiRoles.Auditor), HttpStatusCode.OK);

        var trail = host.Services.GetRequiredService<IAuditTrail>();
        var records = new List<AuditRecord>();
        string? token = null;
        do
        {
            var page = await trail.QueryAsync(new AuditQuery(PageSize: AuditQuery.MaxPageSize, ContinuationToken: token), CancellationToken.None);
            records.AddRange(page.Records);
            token = page.ContinuationToken;
        }
        while (token is not null);

        // Both writers and a refusal are there: the orchestration's numbered records, the API's, a Security Alert.
        Assert.True(records.Count >= 8, $"only {records.Count} records");
        Assert.Contains(records, r => r.Sequence is not null && r.EventType == "RegistrationStarted");
        Assert.Contains(records, r => r.Sequence is null && r.EventId == AuditEventIds.PatientRecord && r.ActionCode == AuditActionCodes.Read);
        Assert.Contains(records, r => r.EventId == AuditEventIds.SecurityAlert);
        Assert.Contains(records, r => r.EventId == AuditEventIds.AuditLogUsed);

        var files = new List<string>();
        foreach (var (record, index) in records.Select((r, i) => (r, i)))
        {
            var path = Path.Combine(directory, $"{index:D3}-{record.EventType.Replace(':', '-')}.xml");
            await File.WriteAllBytesAsync(path, AuditMessageXml.ToUtf8(record));
            files.Add(path);
        }

        var (exitCode, output) = await Xmllint.ValidateAsync(Xmllint.SchemaPath(stack.RepositoryRootPath), files, CancellationToken.None);
        Assert.True(exitCode == 0, output);
        Assert.All(files, file => Assert.Contains(file + " validates", output, StringComparison.Ordinal));
    }

    private static async Task Expect(ApiHost host, HttpRequestMessage request, HttpStatusCode expected)
    {
        using (request)
        {
            var (response, _) = await host.SendAsync(request);
            using (response)
            {
                Assert.Equal(expected, response.StatusCode);
            }
        }
    }
}
