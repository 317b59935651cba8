using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Adapters.Sites;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// What the web console's meeting and sites pages read (issue 16): a meeting's registrations, and each site's queue
/// depths and last failure, on the real runtime, Azurite and the Cosmos DB stand-in.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ConsoleApiTests(LocalStackFixture stack) : IAsyncLifetime
{
    private readonly ApiSamples samples = new();
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private async Task<string> PutMeetingAsync()
    {
        var id = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        var (response, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.Meeting()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return id;
    }

    private async Task<string> RegisterAsync(string meetingId)
    {
        var (response, body) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration()));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return body.GetProperty("registrationId").GetString()!;
    }

    private async Task<JsonElement> ListUntilAsync(string meetingId, string role, Func<JsonElement, bool> condition, string query = "")
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (response, view) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{meetingId}/registrations{query}", role));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (condition(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, "The meeting's registrations did not show the expected progress within 30 s.");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_meetings_registrations_are_listed_with_their_search_progress_for_registrars_and_coordinators_without_patient_data()
    {
        var meetingId = await PutMeetingAsync();
        var otherMeeting = await PutMeetingAsync();
        var answered = await RegisterAsync(meetingId);
        var waiting = await RegisterAsync(meetingId);
        var elsewhere = await RegisterAsync(otherMeeting);

        // Both sites answer the first registration with one matching study each.
        foreach (var site in host.SiteIds)
        {
            var patient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-" + site, null, new DateOnly(1961, 4, 2), "F", []);
            var found = new StudiesFoundAtSite($"evt-{site}", DateTimeOffset.UtcNow, site, CommandIds.Find(answered, site, 1, 1), [new FoundStudy(patient, UniqueNames.DicomUid(), new DateOnly(2029, 1, 5), "TDM THORAX", ["CT"], 2, 40)]);
            await host.RaiseAndWaitAsync(answered, found);
        }

        static JsonElement Of(JsonElement view, string id) => view.GetProperty("registrations").EnumerateArray().Single(r => r.GetProperty("registrationId").GetString() == id);
        var list = await ListUntilAsync(meetingId, ApiRoles.Coordinator, v =>
            v.GetProperty("registrations").GetArrayLength() == 2 && Of(v, answered).GetProperty("sites").GetProperty("searched").GetInt32() == 2);
        Assert.Equal(meetingId, list.GetProperty("meetingId").GetString());
        Assert.False(list.GetProperty("truncated").GetBoolean());
        Assert.DoesNotContain(list.GetProperty("registrations").EnumerateArray(), r => r.GetProperty("registrationId").GetString() == elsewhere);

        var first = Of(list, answered);
        Assert.Equal(2, first.GetProperty("sites").GetProperty("total").GetInt32());
        Assert.Equal(0, first.GetProperty("sites").GetProperty("searching").GetInt32());
        Assert.Equal(2, first.GetProperty("candidates").GetInt32());
        Assert.Equal(0, first.GetProperty("studiesAvailable").GetInt32());
        Assert.Equal(0, first.GetProperty("studiesTotal").GetInt32());
        Assert.True(first.GetProperty("updatedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var second = Of(list, waiting);
        Assert.Equal(2, second.GetProperty("sites").GetProperty("searching").GetInt32());
        Assert.Equal(0, second.GetProperty("candidates").GetInt32());

        // Most recently updated first; a bound cuts the list and says so.
        Assert.Equal(answered, list.GetProperty("registrations")[0].GetProperty("registrationId").GetString());
        var (cut, one) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{meetingId}/registrations?limit=1", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
        Assert.Equal(1, one.GetProperty("registrations").GetArrayLength());
        Assert.True(one.GetProperty("truncated").GetBoolean());

        foreach (var value in samples.PatientData)
        {
            Assert.DoesNotContain(value, list.GetRawText(), StringComparison.OrdinalIgnoreCase);
        }

        var (auditor, _) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{meetingId}/registrations", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.Forbidden, auditor.StatusCode);
        var (unknown, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/meetings/m-no-such-meeting/registrations", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Sites_show_their_relay_queue_depths_and_the_last_failure_their_relay_reported()
    {
        var site = host.SiteIds[0];
        var transport = host.Services.GetRequiredService<StorageQueueTransport>();
        var runtime = host.Services.GetRequiredService<RuntimeOptions>();

        // Two commands the relay has not taken, one event the app has not handled (no listener runs in this host).
        var commands = ResourceNames.CommandQueueFor(site);
        await transport.EnsureQueueAsync(commands, CancellationToken.None);
        await transport.SendAsync(commands, "{}"u8.ToArray(), null, CancellationToken.None);
        await transport.SendAsync(commands, "{}"u8.ToArray(), null, CancellationToken.None);
        var events = runtime.EventsQueueFor(site);
        await transport.EnsureQueueAsync(events, CancellationToken.None);
        await transport.SendAsync(events, "{}"u8.ToArray(), null, CancellationToken.None);

        // A failed retrieval reported by the relay: recorded as the site's last failure even though no registration
        // of this run is named (the report is quarantined for that, the operator still sees it); a cancellation is not one.
        var processor = host.Services.GetRequiredService<RelayEventProcessor>();
        var failed = new MessageEnvelope("f-" + Guid.NewGuid().ToString("N"), "reg-unknown", "cmd-1", site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new CommandFailed("RetrieveStudy", FailureReason.PacsUnreachable, "Association refused by the PACS."));
        Assert.Equal(RelayEventOutcome.UnknownRegistration, await processor.ProcessAsync(site, failed, CancellationToken.None));
        var cancelled = failed with { MessageId = "c-" + Guid.NewGuid().ToString("N"), Body = new CommandFailed("RetrieveStudy", FailureReason.Cancelled, "Cancelled.") };
        await processor.ProcessAsync(site, cancelled, CancellationToken.None);

        // A late report older than the recorded one does not replace it.
        var store = host.Services.GetRequiredService<ISiteHealthStore>();
        await store.RecordFailureAsync(new SiteFailure(site, DateTimeOffset.UtcNow.AddHours(-1), "FindStudies", "Timeout", "older"), CancellationToken.None);

        var (response, sites) = await host.SendAsync(host.Request(HttpMethod.Get, "/sites", ApiRoles.Admin));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var first = sites.EnumerateArray().Single(s => s.GetProperty("siteId").GetString() == site);
        Assert.Equal(2, first.GetProperty("commandsQueued").GetInt32());
        Assert.Equal(1, first.GetProperty("eventsQueued").GetInt32());
        var lastFailure = first.GetProperty("lastFailure");
        Assert.Equal("RetrieveStudy", lastFailure.GetProperty("command").GetString());
        Assert.Equal("PacsUnreachable", lastFailure.GetProperty("reason").GetString());
        Assert.Equal("Association refused by the PACS.", lastFailure.GetProperty("message").GetString());

        var second = sites.EnumerateArray().Single(s => s.GetProperty("siteId").GetString() == host.SiteIds[1]);
        // The API leaves nulls out: no failure recorded; the command queue empty or not created yet.
        Assert.False(second.TryGetProperty("lastFailure", out _));
        Assert.True(!second.TryGetProperty("commandsQueued", out var queued) || queued.GetInt32() == 0);

        var (registrar, _) = await host.SendAsync(host.Request(HttpMethod.Get, "/sites", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.Forbidden, registrar.StatusCode);
    }
}
