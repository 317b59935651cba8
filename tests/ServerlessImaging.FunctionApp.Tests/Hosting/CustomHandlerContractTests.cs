using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.FunctionApp.Hosting;
using ServerlessImaging.FunctionApp.Tests.Runtime.Support;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.FunctionApp.Tests.Hosting;

/// <summary>
/// The app started the way the Functions host starts it (<c>--custom-handler</c>, <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>),
/// driven with invocation requests of the documented shape: <c>POST /{function}</c> with <c>{"Data": ..., "Metadata": ...}</c>,
/// answered with <c>{"Outputs", "Logs", "ReturnValue"}</c>.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class CustomHandlerContractTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Queue_and_timer_invocations_apply_relay_events_quarantine_bad_ones_and_run_the_sweep()
    {
        var endpoints = stack.Endpoints;
        var site = RuntimeSettings.NewSiteId("handler");
        var settings = new RuntimeSettings(endpoints, [site]);
        await using var clientSide = await RuntimeHarness.StartAsync(settings, withWorkers: false);
        var client = clientSide.Get<IRegistrationOrchestrationClient>();
        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, new("HANDLER", null, "Test", new DateOnly(1950, 1, 2), Orchestration.Registrations.PatientSex.Male, null)), "k-" + id, CancellationToken.None);

        var port = FreePort();
        await using var app = AppProcess.Start(stack.RepositoryRootPath, settings, fault: null, ["--custom-handler"], new Dictionary<string, string> { [CustomHandler.PortVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await Scenario.WaitUntilAsync(async () => await Answers(http), "the custom handler listening. Output:\n" + app.Output);

        // A relay answer, as the queue trigger hands it over: the message text in Data.<binding>.
        var findId = CommandIds.Find(id, site, 1, 1);
        var answer = new MessageEnvelope(findId + "/StudiesFound", id, findId, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new StudiesFound([]));
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = System.Text.Encoding.UTF8.GetString(MessageCodec.Serialize(answer)) }, new JsonObject { ["DequeueCount"] = 1, ["Id"] = Guid.NewGuid().ToString() }))
        {
            await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
        }

        var status = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.Equal(SiteSearchStatus.Searched, status.State.SiteOf(site)!.Status);
        Assert.Equal(RegistrationStatus.WaitingForSelection, status.Status);

        // Unknown registration and malformed text: both answered 200 (no pointless retries) and kept in the poison queue.
        var orphan = answer with { MessageId = "orphan-" + Guid.NewGuid().ToString("N"), CorrelationId = "reg-unknown" };
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = System.Text.Encoding.UTF8.GetString(MessageCodec.Serialize(orphan)) }, new JsonObject()))
        {
            await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
        }

        var garbage = "not a relay event " + Guid.NewGuid().ToString("N");
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = garbage }, new JsonObject()))
        {
            await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
        }

        // A command on the events queue is quarantined as such; a relay's unsolicited poison report is only logged.
        var misrouted = new MessageEnvelope("cmd-" + Guid.NewGuid().ToString("N"), id, null, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new EchoCommand());
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = System.Text.Encoding.UTF8.GetString(MessageCodec.Serialize(misrouted)) }, new JsonObject()))
        {
            var body = await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
            Assert.Equal($"Relay event {misrouted.MessageId}: MisroutedCommand; quarantined: A command on the events queue.", body["Logs"]![0]!.GetValue<string>());
        }

        var report = new MessageEnvelope($"{site}/poison/{Guid.NewGuid():N}", RelayPoisonReports.UnsolicitedCorrelationId, null, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion,
            new CommandFailed("Unknown", FailureReason.InvalidCommand, "Queue message t-2 quarantined: it breaks the message contract."));
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = System.Text.Encoding.UTF8.GetString(MessageCodec.Serialize(report)) }, new JsonObject()))
        {
            var body = await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
            Assert.Equal($"Relay event {report.MessageId}: RelayPoisonReported.", body["Logs"]![0]!.GetValue<string>());
        }

        var poison = new QueueClient(endpoints.Storage.ConnectionString, PoisonQueues.For(settings.EventsQueue), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var kept = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Contains(kept, body => body.Contains(orphan.MessageId, StringComparison.Ordinal));
        Assert.Contains(garbage, kept);
        Assert.Contains(kept, body => body.Contains(misrouted.MessageId, StringComparison.Ordinal));
        Assert.DoesNotContain(kept, body => body.Contains(report.MessageId, StringComparison.Ordinal));
        Assert.Contains($"Relay of site {site} quarantined message (unreadable) (Unknown)", app.Output, StringComparison.Ordinal);

        // A payload without the binding is a bad request, not a crash.
        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject(), new JsonObject()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        // The timer trigger runs one sweep.
        using (var response = await InvokeAsync(http, CustomHandler.SweepFunction, new JsonObject { [CustomHandler.SweepBinding] = new JsonObject { ["IsPastDue"] = false } }, new JsonObject()))
        {
            var body = await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
            Assert.StartsWith("Sweep:", body["Logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // HTTP is forwarded unchanged (enableForwardingHttpRequest): ordinary routes answer as they are.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task A_relay_event_too_large_for_a_queue_message_is_read_from_its_blob_body_and_the_body_is_released()
    {
        var endpoints = stack.Endpoints;
        var site = RuntimeSettings.NewSiteId("bigevt");
        var settings = new RuntimeSettings(endpoints, [site]);
        await using var clientSide = await RuntimeHarness.StartAsync(settings, withWorkers: false);
        var client = clientSide.Get<IRegistrationOrchestrationClient>();
        var id = Scenario.NewRegistrationId();
        var meeting = Scenario.Meeting("rcp-" + id);
        await client.StartNewAsync(meeting, Scenario.Registration(id, meeting.Id, new("HANDLER", null, "Test", new DateOnly(1950, 1, 2), Orchestration.Registrations.PatientSex.Male, null)), "k-" + id, CancellationToken.None);

        // The relay side: a real channel offloads this 400-study answer (well over 48 KiB) to the message-bodies container.
        var studies = Enumerable.Range(1, 400)
            .Select(i => new FoundStudy(new PacsPatient("OTHER^PERSON", null, "X" + i, null, new DateOnly(1950, 1, 2), "M", []), $"2.25.{(ulong)Random.Shared.NextInt64()}{i}", null, "description " + new string('x', 100), ["CT"], 1, 1))
            .ToList();
        var findId = CommandIds.Find(id, site, 1, 1);
        var answer = new MessageEnvelope(findId + "/StudiesFound", id, findId, site, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, new StudiesFound(studies));
        var queue = "bigevt-" + Guid.NewGuid().ToString("N")[..12];
        var bodies = new Azure.Storage.Blobs.BlobContainerClient(endpoints.Storage.ConnectionString, Contracts.ResourceNames.MessageBodiesContainer);
        await bodies.CreateIfNotExistsAsync();
        var relayChannel = new MessageChannel(new Messaging.Transport.StorageQueueTransport(endpoints.Storage.ConnectionString), new Messaging.Storage.BlobMessageBodyStore(bodies), new MessageChannelOptions { CreateQueuesIfMissing = true });
        await relayChannel.SendAsync(queue, answer, CancellationToken.None);
        var raw = (await new QueueClient(endpoints.Storage.ConnectionString, queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }).ReceiveMessageAsync()).Value.Body.ToString();
        Assert.Contains("bodyRef", raw, StringComparison.Ordinal);
        var blobName = JsonNode.Parse(raw)!["bodyRef"]!["blob"]!.GetValue<string>();
        Assert.True(await bodies.GetBlobClient(blobName).ExistsAsync());

        var port = FreePort();
        await using var app = AppProcess.Start(stack.RepositoryRootPath, settings, fault: null, ["--custom-handler"], new Dictionary<string, string> { [CustomHandler.PortVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await Scenario.WaitUntilAsync(async () => await Answers(http), "the custom handler listening. Output:\n" + app.Output);

        using (var response = await InvokeAsync(http, CustomHandler.RelayEventsFunction, new JsonObject { [CustomHandler.RelayEventsBinding] = raw }, new JsonObject { ["DequeueCount"] = 1 }))
        {
            await AssertInvocationResponseAsync(response, HttpStatusCode.OK);
        }

        var status = (await client.GetStatusAsync(id, CancellationToken.None))!;
        Assert.Equal(SiteSearchStatus.Searched, status.State.SiteOf(site)!.Status);
        Assert.False(await bodies.GetBlobClient(blobName).ExistsAsync());
    }

    private static Task<HttpResponseMessage> InvokeAsync(HttpClient http, string function, JsonObject data, JsonObject metadata) =>
        http.PostAsJsonAsync("/" + function, new JsonObject { ["Data"] = data, ["Metadata"] = metadata });

    private static async Task<JsonNode> AssertInvocationResponseAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!;
        Assert.NotNull(body["Outputs"]);
        Assert.IsType<JsonArray>(body["Logs"]);
        Assert.True(body.AsObject().ContainsKey("ReturnValue"));
        return body;
    }

    private static async Task<bool> Answers(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("healthz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
