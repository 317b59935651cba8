using System.Net;
using System.Text.Json;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>A meeting's delivery destination through the meetings API (issue 17), on the real host and Cosmos DB stand-in.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class MeetingDeliveryDestinationApiTests(LocalStackFixture stack) : IAsyncLifetime
{
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    private static string NewMeetingId() => "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();

    private static List<(string Field, string Code)> FieldErrors(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("field").GetString()!, e.GetProperty("code").GetString()!))];

    [Fact]
    public async Task A_destination_on_a_configured_site_is_saved_read_back_and_removed_by_an_edit_without_it()
    {
        var id = NewMeetingId();
        var (put, saved) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.MeetingDeliveringTo(host.SiteIds[0])));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("RCPPACS", saved.GetProperty("settings").GetProperty("deliveryDestination").GetProperty("aeTitle").GetString());

        var (get, read) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{id}", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var destination = read.GetProperty("settings").GetProperty("deliveryDestination");
        Assert.Equal(host.SiteIds[0], destination.GetProperty("siteId").GetString());
        Assert.Equal("127.0.0.1", destination.GetProperty("host").GetString());
        Assert.Equal(11116, destination.GetProperty("port").GetInt32());

        // An edit without the member: the meeting no longer delivers anywhere.
        var (edit, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, ApiSamples.Meeting()));
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
        var (_, edited) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{id}", ApiRoles.Coordinator));
        Assert.True(
            !edited.GetProperty("settings").TryGetProperty("deliveryDestination", out var none) || none.ValueKind == JsonValueKind.Null,
            "the edit without a destination kept the old one");
    }

    [Fact]
    public async Task An_unknown_site_a_bad_ae_title_and_a_bad_port_are_422_field_errors_and_nothing_is_saved()
    {
        var id = NewMeetingId();
        var body = ApiSamples.MeetingDeliveringTo("site-inconnu", aeTitle: "AE_TITLE_TOO_LONG_X", host: "127.0.0.1", port: 70000);

        var (response, problem) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{id}", ApiRoles.Coordinator, body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            [("deliveryDestination.siteId", "unknown_site"), ("deliveryDestination.aeTitle", "invalid_ae_title"), ("deliveryDestination.port", "out_of_range")],
            FieldErrors(problem));
        Assert.DoesNotContain("site-inconnu", problem.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("AE_TITLE_TOO_LONG_X", problem.GetRawText(), StringComparison.Ordinal);
        var (absent, _) = await host.SendAsync(host.Request(HttpMethod.Get, $"/meetings/{id}", ApiRoles.Coordinator));
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_destination()
    {
        var (response, document) = await host.SendAsync(host.Request(HttpMethod.Get, "/openapi/v1.json", ApiRoles.Auditor));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("MeetingBody").GetProperty("properties").TryGetProperty("deliveryDestination", out _), "MeetingBody lacks deliveryDestination");
        var properties = schemas.GetProperty("MeetingDestination").GetProperty("properties");
        Assert.Equal(["aeTitle", "host", "port", "siteId"], properties.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }
}
