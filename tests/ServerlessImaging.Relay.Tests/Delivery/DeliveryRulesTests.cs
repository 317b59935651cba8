using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Spool;

namespace ServerlessImaging.Relay.Tests.Delivery;

/// <summary>Pure rules of deliveries: the allow-lists, their validation, the journal's file format.</summary>
public sealed class DeliveryRulesTests
{
    private static readonly DeliveryDestination Rcp = new("RCPPACS", "10.20.0.40", 104);

    private static DeliverySettings Settings() => new()
    {
        AllowedDestinations = [new DeliveryNodeSettings { AeTitle = "RCPPACS", Host = "10.20.0.40", Port = 104 }],
        AllowedSources = [new Uri("https://dicom.example/v2/")],
    };

    [Fact]
    public void Only_a_destination_matching_ae_title_host_and_port_is_allowed()
    {
        var settings = Settings();
        Assert.True(DeliveryRunner.IsAllowed(settings, Rcp));
        Assert.True(DeliveryRunner.IsAllowed(settings, Rcp with { Host = "10.20.0.40" }));
        Assert.False(DeliveryRunner.IsAllowed(settings, Rcp with { AeTitle = "rcppacs" }));
        Assert.False(DeliveryRunner.IsAllowed(settings, Rcp with { Host = "10.20.0.41" }));
        Assert.False(DeliveryRunner.IsAllowed(settings, Rcp with { Port = 11112 }));
        Assert.False(DeliveryRunner.IsAllowed(new DeliverySettings(), Rcp));
    }

    [Fact]
    public void Only_an_allowed_dicomweb_base_is_a_source()
    {
        var settings = Settings();
        Assert.True(DeliveryRunner.IsAllowedSource(settings, new Uri("https://dicom.example/v2/")));
        Assert.True(DeliveryRunner.IsAllowedSource(settings, new Uri("https://DICOM.example/v2")));
        Assert.False(DeliveryRunner.IsAllowedSource(settings, new Uri("http://dicom.example/v2/")));
        Assert.False(DeliveryRunner.IsAllowedSource(settings, new Uri("https://dicom.example:8443/v2/")));
        Assert.False(DeliveryRunner.IsAllowedSource(settings, new Uri("https://dicom.example/v2/../admin/")));
        Assert.False(DeliveryRunner.IsAllowedSource(settings, new Uri("https://evil.example/v2/")));
        Assert.False(DeliveryRunner.IsAllowedSource(settings, new Uri("https://user:pw@dicom.example/v2/")));
    }

    [Fact]
    public void Delivery_settings_are_validated_by_setting_name()
    {
        var options = new RelayOptions
        {
            SiteId = "chu-nord",
            Channel = { ConnectionString = "UseDevelopmentStorage=true" },
            Pacs = { AeTitle = "CHUNORD", Host = "pacs.local", Port = 104, CallingAeTitle = "SI_RELAY_NORD", RetrieveMethod = RetrieveMethod.Get },
            Delivery = Settings(),
        };
        Assert.Empty(RelayOptionsValidator.Validate(options));

        options.Delivery.AllowedDestinations.Add(new DeliveryNodeSettings { AeTitle = "A_TITLE_LONGER_THAN_16", Host = " ", Port = 70000 });
        options.Delivery.AllowedSources.Add(new Uri("http://dicom.example/v2/"));
        options.Delivery.CallingAeTitle = "BAD\\AE";
        var problems = RelayOptionsValidator.Validate(options);

        Assert.Contains("Relay:Delivery:AllowedDestinations:1:AeTitle must be 1-16 printable ASCII characters without backslash.", problems);
        Assert.Contains("Relay:Delivery:AllowedDestinations:1:Host is required.", problems);
        Assert.Contains("Relay:Delivery:AllowedDestinations:1:Port must be 1-65535.", problems);
        Assert.Contains(problems, p => p.StartsWith("Relay:Delivery:AllowedSources:1 ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Delivery:CallingAeTitle", StringComparison.Ordinal));
        Assert.Equal(5, problems.Count);
    }

    [Fact]
    public void The_journal_keeps_complete_lines_of_its_own_delivery_only()
    {
        var directory = Directory.CreateTempSubdirectory("si-delivery-journal-").FullName;
        try
        {
            var journals = new DeliveryJournals(directory, TimeProvider.System, NullLogger<DeliveryJournals>.Instance);
            var path = journals.PathOf("1.2.3", Rcp);
            var header = "{\"journal\":1,\"delivery\":\"1.2.3\\nRCPPACS\\n10.20.0.40\\n104\"}\n";
            var text = header + "{\"sop\":\"1.2.3.1\",\"size\":10}\n{\"sop\":\"1.2.3.2\",\"size\":10}\n{\"sop\":\"1.2.3.3\",\"si";
            var format = DeliveryJournalFormat.Instance;
            var (records, length, ignored) = format.Parse(Encoding.UTF8.GetBytes(text), DeliveryJournalFormat.IdentityOf("1.2.3", Rcp));

            Assert.Equal(["1.2.3.1", "1.2.3.2"], records.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(10, records["1.2.3.1"].SizeBytes);
            Assert.Equal(text.LastIndexOf('\n') + 1, length);
            Assert.Equal(1, ignored);
            Assert.Empty(format.Parse(Encoding.UTF8.GetBytes(text), DeliveryJournalFormat.IdentityOf("1.2.3", Rcp with { Port = 105 })).Records);
            Assert.Empty(format.Parse(Encoding.UTF8.GetBytes(text), DeliveryJournalFormat.IdentityOf("1.2.4", Rcp)).Records);
            Assert.NotEqual(path, journals.PathOf("1.2.3", Rcp with { AeTitle = "OTHER" }));
            Assert.Equal(journals.PathOf("1.2.3", Rcp with { Host = "PACS.Example" }), journals.PathOf("1.2.3", Rcp with { Host = "pacs.example" }));

            // The lines this relay writes are those earlier relays wrote (and read back): their journals still resume.
            Assert.Equal(header, Encoding.UTF8.GetString(JournalFormat<DeliveredInstance>.HeaderLine(DeliveryJournalFormat.IdentityOf("1.2.3", Rcp))));
            Assert.Equal("{\"sop\":\"1.2.3.1\",\"size\":10}\n", Encoding.UTF8.GetString(format.RecordLine(new DeliveredInstance("1.2.3.1", 10))));
            Assert.Equal(Path.Combine(directory, "deliveries", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("1.2.3\nRCPPACS\n10.20.0.40\n104"u8)) + ".journal"), path);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
