using System.Text.Json;
using ServerlessImaging.Orchestration.Meetings;

namespace ServerlessImaging.Orchestration.Tests.Meetings;

/// <summary>A meeting's delivery destination (issue 17): field errors, PS3.5 AE titles, known sites, stored meetings without it.</summary>
public sealed class DeliveryDestinationTests
{
    private static readonly string[] Sites = ["chu-nord", "clinique-sud", "ch-est"];

    private static Meeting WithDestination(MeetingDestination destination) => Fixtures.Meeting() with { DeliveryDestination = destination };

    [Fact]
    public void A_meeting_with_a_destination_on_a_configured_site_is_valid_and_one_without_is_too()
    {
        Assert.Empty(WithDestination(new MeetingDestination("chu-nord", "RCPPACS", "10.20.0.40", 104)).Validate(Fixtures.T0, Sites));
        Assert.Empty(WithDestination(new MeetingDestination("chu-nord", " RCP PACS 2 ", "pacs-rcp.chu-nord.local", 11112)).Validate(Fixtures.T0, Sites));
        Assert.Empty(Fixtures.Meeting().Validate(Fixtures.T0, Sites));
    }

    [Fact]
    public void An_unknown_site_a_bad_ae_title_host_and_port_are_each_a_field_error()
    {
        var errors = WithDestination(new MeetingDestination("chu-ouest", "RCP\\PACS", "not a host", 0)).Validate(Fixtures.T0, Sites);

        Assert.Equal(
            [("deliveryDestination.siteId", "unknown_site"), ("deliveryDestination.aeTitle", "invalid_ae_title"), ("deliveryDestination.host", "invalid_host"), ("deliveryDestination.port", "out_of_range")],
            errors.Select(e => (e.Field, e.Code)));
        Assert.All(errors, e => Assert.DoesNotContain("chu-ouest", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("RCPPACS", true)]
    [InlineData("A", true)]
    [InlineData("SIXTEEN_CHARS_AE", true)]
    [InlineData("with space", true)]
    [InlineData("SEVENTEEN_CHARS_A", false)]
    [InlineData("", false)]
    [InlineData("    ", false)]
    [InlineData("BACK\\SLASH", false)]
    [InlineData("TAB\tAE", false)]
    [InlineData("ÉCHO", false)]
    public void Ae_titles_follow_the_ae_value_representation(string value, bool valid) =>
        Assert.Equal(valid, MeetingDestination.IsAeTitle(value));

    [Theory]
    [InlineData(65536)]
    [InlineData(-1)]
    public void Ports_outside_1_to_65535_are_refused(int port) =>
        Assert.Equal(["deliveryDestination.port"], WithDestination(new MeetingDestination("chu-nord", "RCPPACS", "10.0.0.1", port)).Validate(Fixtures.T0, Sites).Select(e => e.Field));

    [Fact]
    public void Without_the_list_of_sites_only_the_shape_of_the_site_is_checked()
    {
        var meeting = WithDestination(new MeetingDestination("chu-ouest", "RCPPACS", "10.0.0.1", 104));
        Assert.Empty(meeting.Validate(Fixtures.T0));
        Assert.Equal(["deliveryDestination.siteId"], (meeting with { DeliveryDestination = meeting.DeliveryDestination! with { SiteId = " " } }).Validate(Fixtures.T0).Select(e => e.Field));
    }

    [Fact]
    public void A_meeting_stored_before_destinations_existed_reads_without_one()
    {
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() }, RespectRequiredConstructorParameters = true };
        var stored = JsonSerializer.SerializeToNode(Fixtures.Meeting(), web)!.AsObject();
        stored.Remove("deliveryDestination");

        var read = stored.Deserialize<Meeting>(web)!;

        Assert.Null(read.DeliveryDestination);
        Assert.Equal(Fixtures.Meeting() with { DefaultFilter = read.DefaultFilter }, read);
        Assert.Equal(Fixtures.Meeting().DefaultFilter.Modalities, read.DefaultFilter.Modalities);
    }
}
