using System.Net;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Audit;
using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Cloud.Tests.Api;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Security;

/// <summary>
/// Reads fail closed: when the audit record of a read cannot be written to Cosmos DB, the caller gets 503 problem+json
/// and none of what was read; when it can, 200 with the data. The audit store is made unavailable for real: the API's
/// trail writes to a container that does not exist, or the test deletes the database's audit container.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class FailClosedReadTests(LocalStackFixture stack)
{
    private readonly ApiSamples samples = new();

    /// <summary>
    /// The API's audit trail over the stand-in: queries always read the database's <c>audit</c> container; writes go to
    /// it, or — while <see cref="Unavailable"/> — to a container that does not exist (Cosmos answers 404).
    /// </summary>
    private sealed class AuditStoreSwitch : IAuditTrail
    {
        private CosmosAuditTrail? available;
        private CosmosAuditTrail? missing;

        public volatile bool Unavailable;

        public AuditStoreSwitch Attach(IServiceProvider services)
        {
            var client = services.GetRequiredService<CosmosClient>();
            var database = services.GetRequiredService<CosmosOptions>().DatabaseName;
            available = new CosmosAuditTrail(client.GetContainer(database, "audit"), "serverless-imaging");
            missing = new CosmosAuditTrail(client.GetContainer(database, "audit-that-does-not-exist"), "serverless-imaging");
            return this;
        }

        public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
            (Unavailable ? missing! : available!).AppendAsync(record, cancellationToken);

        public Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken) => available!.QueryAsync(query, cancellationToken);
    }

    private sealed record Read(string Name, Func<HttpRequestMessage> Request);

    private static async Task<(HttpResponseMessage Response, string Text)> SendAsync(ApiHost host, HttpRequestMessage request)
    {
        using (request)
        {
            var response = await host.Client.SendAsync(request);
            return (response, await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>A meeting, a registration and one site's answer with a study: what the reads below return.</summary>
    private async Task<(string MeetingId, string RegistrationId, string StudyUid, string Description)> SeedAsync(ApiHost host)
    {
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        var (put, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting()));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var (post, accepted) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration()));
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var registrationId = accepted.GetProperty("registrationId").GetString()!;

        var uid = UniqueNames.DicomUid();
        var description = "IRM cerebrale " + UniqueNames.PatientSuffix(6);
        var site = host.SiteIds[0];
        var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-1", null, new DateOnly(1961, 4, 2), "F", []);
        await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite("evt-" + uid, DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(patient, uid, new DateOnly(2029, 1, 5), description, ["MR"], 1, 10)]));
        return (meetingId, registrationId, uid, description);
    }

    private static void AssertWithheld(HttpResponseMessage response, string text, string what, IEnumerable<string> secrets)
    {
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("audit-unavailable", text, StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Null(response.Headers.ETag);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Every_read_is_answered_503_without_its_data_while_its_audit_record_cannot_be_written()
    {
        var audit = new AuditStoreSwitch();
        await using var host = await ApiHost.StartAsync(stack, configureServices: services => services.AddSingleton<IAuditTrail>(audit.Attach));
        var (meetingId, registrationId, uid, description) = await SeedAsync(host);

        // The auditor's view gives the patient's pseudonymous key, itself data a failed read must not return.
        var (auditResponse, auditBody) = await host.SendAsync(host.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}&pageSize=100", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.OK, auditResponse.StatusCode);
        var patientKey = auditBody.GetProperty("records").EnumerateArray().Select(r => r.TryGetProperty("patientKey", out var key) ? key.GetString() : null).First(k => k is not null)!;

        var reads = new (Read Read, string[] Shows)[]
        {
            (new("GET registration", () => host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar)), [uid, description]),
            (new("GET meeting", () => host.Request(HttpMethod.Get, $"/meetings/{meetingId}", ApiRoles.Coordinator)), ["RCP ORL CHRU de Tours", "radio@example.org"]),
            (new("GET sites", () => host.Request(HttpMethod.Get, "/sites", ApiRoles.Admin)), [host.SiteIds[0], host.SiteIds[1]]),
            (new("GET audit", () => host.Request(HttpMethod.Get, $"/audit?registrationId={registrationId}", ApiRoles.Auditor)), [patientKey, "RegistrationRequested"]),
            (new("GET audit/fhir", () => host.Request(HttpMethod.Get, $"/audit/fhir?registrationId={registrationId}", ApiRoles.Auditor)), [patientKey, "AuditEvent"]),
            (new("POST audit/patient-search", () => host.Request(HttpMethod.Post, "/audit/patient-search", ApiRoles.Auditor, samples.PatientSearch())), [patientKey, registrationId]),
        };

        foreach (var (read, shows) in reads)
        {
            var (response, text) = await SendAsync(host, read.Request());
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{read.Name}: {(int)response.StatusCode} {text}");
            Assert.All(shows, value => Assert.Contains(value, text, StringComparison.Ordinal));
        }

        audit.Unavailable = true;
        foreach (var (read, shows) in reads)
        {
            var (response, text) = await SendAsync(host, read.Request());
            AssertWithheld(response, text, read.Name, [.. shows, .. samples.PatientData]);
        }

        Assert.Contains(host.Logs.Lines, line => line.Contains("Withheld the answer to RegistrationStatusRead (HTTP 200)", StringComparison.Ordinal));

        // A refusal carries no data: it is still answered as such.
        var (forbidden, _) = await SendAsync(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        // The store back: the same read is answered, with its data.
        audit.Unavailable = false;
        var (again, againText) = await SendAsync(host, reads[0].Read.Request());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains(uid, againText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_the_audit_container_turns_a_registration_read_into_503_without_its_studies()
    {
        await using var host = await ApiHost.StartAsync(stack);
        var (_, registrationId, uid, description) = await SeedAsync(host);
        var (ok, okText) = await SendAsync(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains(uid, okText, StringComparison.Ordinal);

        var cosmos = host.Services.GetRequiredService<CosmosClient>();
        using (await cosmos.GetContainer(host.Services.GetRequiredService<CosmosOptions>().DatabaseName, "audit").DeleteContainerStreamAsync())
        {
        }

        var (response, text) = await SendAsync(host, host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
        AssertWithheld(response, text, "GET registration", [uid, description, .. samples.PatientData]);
    }
}
