using System.Xml.Linq;
using ServerlessImaging.Orchestration.Audit;
using ServerlessImaging.Orchestration.Audit.Atna;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Testing.Atna;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>
/// Every kind of audit record, as a PS3.15 Audit Message, against the standard's schema with the real xmllint (the stack
/// fixture installs it), plus the mapping's facts an ATNA repository relies on.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class AuditMessageSchemaTests(LocalStackFixture stack) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("atna-xml-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Every_record_kind_validates_against_the_DICOM_audit_message_schema()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var samples = AtnaSamples.All("reg-" + Guid.NewGuid().ToString("n")).ToList();
        Assert.Equal((Enum.GetValues<AuditAction>().Length * 2) + 8, samples.Count);
        var files = new List<string>();
        foreach (var (name, record) in samples)
        {
            var path = Path.Combine(directory, name + ".xml");
            await File.WriteAllBytesAsync(path, AuditMessageXml.ToUtf8(record, new AuditMessageSettings("HDS-CHU-NORD")), deadline.Token);
            files.Add(path);
        }

        var (exitCode, output) = await Xmllint.ValidateAsync(Xmllint.SchemaPath(stack.RepositoryRootPath), files, deadline.Token);

        Assert.True(exitCode == 0, output);
        foreach (var file in files)
        {
            Assert.Contains(file + " validates", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_schema_refuses_a_message_that_breaks_it()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (_, record) = AtnaSamples.HttpRecords("reg-broken").First();
        var xml = XDocument.Parse(AuditMessageXml.ToXml(record));
        var valid = Path.Combine(directory, "valid.xml");
        xml.Save(valid);

        // Each a violation of A.5.1: an outcome outside 0/4/8/12, a participant object without name or query, no active participant.
        var badOutcome = new XDocument(xml);
        badOutcome.Root!.Element("EventIdentification")!.SetAttributeValue("EventOutcomeIndicator", "3");
        var noName = new XDocument(xml);
        noName.Root!.Element("ParticipantObjectIdentification")!.Element("ParticipantObjectName")!.Remove();
        var noParticipant = new XDocument(xml);
        noParticipant.Root!.Elements("ActiveParticipant").Remove();
        var broken = new[] { ("bad-outcome", badOutcome), ("no-name", noName), ("no-participant", noParticipant) }
            .Select(b =>
            {
                var path = Path.Combine(directory, b.Item1 + ".xml");
                b.Item2.Save(path);
                return path;
            })
            .ToList();

        var schema = Xmllint.SchemaPath(stack.RepositoryRootPath);
        Assert.Equal(0, (await Xmllint.ValidateAsync(schema, [valid], deadline.Token)).ExitCode);
        foreach (var path in broken)
        {
            var (exitCode, output) = await Xmllint.ValidateAsync(schema, [path], deadline.Token);
            Assert.True(exitCode != 0, $"{Path.GetFileName(path)} should fail: {output}");
            Assert.Contains(path + " fails to validate", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_retrieval_names_its_patient_by_pseudonym_its_studies_and_the_source_and_destination_roles()
    {
        var activity = new WriteAuditActivity("reg-1/cmd-9", "reg-1", new DateTimeOffset(2026, 12, 5, 1, 30, 17, 123, TimeSpan.FromHours(1)), AuditAction.RetrievalCompleted,
            AuditOutcome.Success, AtnaSamples.PatientKey, null, "chu-nord", "1.2.3.4", "12 instances")
        {
            SourceAeTitle = "CHUNORD",
            DestinationAeTitle = "SI_RELAY_NORD",
        };
        var xml = XDocument.Parse(AuditMessageXml.ToXml(OrchestrationAuditMapper.Map(activity, "orchestration")));

        var eventId = xml.Root!.Element("EventIdentification")!;
        Assert.Equal("2026-12-05T00:30:17.123Z", (string?)eventId.Attribute("EventDateTime"));
        Assert.Equal("C", (string?)eventId.Attribute("EventActionCode"));
        Assert.Equal("0", (string?)eventId.Attribute("EventOutcomeIndicator"));
        Assert.Equal("110104", (string?)eventId.Element("EventID")!.Attribute("csd-code"));
        Assert.Equal("RetrievalCompleted", (string?)eventId.Element("EventTypeCode")!.Attribute("csd-code"));

        var participants = xml.Root.Elements("ActiveParticipant").ToDictionary(p => (string)p.Attribute("UserID")!);
        Assert.Equal("true", (string?)participants[OrchestrationAuditMapper.ApplicationId].Attribute("UserIsRequestor"));
        Assert.Equal("110150", (string?)participants[OrchestrationAuditMapper.ApplicationId].Element("RoleIDCode")!.Attribute("csd-code"));
        Assert.Equal("110153", (string?)participants["CHUNORD"].Element("RoleIDCode")!.Attribute("csd-code"));
        Assert.Equal("AETITLES=CHUNORD", (string?)participants["CHUNORD"].Attribute("AlternativeUserID"));
        Assert.Equal("110152", (string?)participants["SI_RELAY_NORD"].Element("RoleIDCode")!.Attribute("csd-code"));
        Assert.Equal("110153", (string?)participants["chu-nord"].Element("RoleIDCode")!.Attribute("csd-code"));

        var objects = xml.Root.Elements("ParticipantObjectIdentification").ToList();
        var patient = Assert.Single(objects, o => (string?)o.Attribute("ParticipantObjectTypeCodeRole") == "1");
        Assert.Equal(AtnaSamples.PatientKey, (string?)patient.Attribute("ParticipantObjectID"));
        Assert.Equal("1", (string?)patient.Attribute("ParticipantObjectTypeCode"));
        Assert.Equal("2", (string?)patient.Element("ParticipantObjectIDTypeCode")!.Attribute("csd-code"));
        Assert.Equal(AtnaSamples.PatientKey, (string?)patient.Element("ParticipantObjectName"));
        var study = Assert.Single(objects, o => (string?)o.Element("ParticipantObjectIDTypeCode")!.Attribute("csd-code") == "110180");
        Assert.Equal("1.2.3.4", (string?)study.Attribute("ParticipantObjectID"));
        Assert.Equal("DCM", (string?)study.Element("ParticipantObjectIDTypeCode")!.Attribute("codeSystemName"));
        Assert.Single(objects, o => (string?)o.Attribute("ParticipantObjectID") == "reg-1");
    }

    [Fact]
    public void A_user_request_carries_the_callers_address_and_app_roles_and_a_query_carries_its_filter_as_query()
    {
        var (_, read) = AtnaSamples.HttpRecords("reg-2").First(r => r.Name == "http-read");
        var user = XDocument.Parse(AuditMessageXml.ToXml(read)).Root!.Elements("ActiveParticipant").First();
        Assert.Equal("user-sub-0042", (string?)user.Attribute("UserID"));
        Assert.Equal("true", (string?)user.Attribute("UserIsRequestor"));
        Assert.Equal("10.1.2.3", (string?)user.Attribute("NetworkAccessPointID"));
        Assert.Equal("2", (string?)user.Attribute("NetworkAccessPointTypeCode"));
        Assert.Equal(["registrar", "coordinator"], user.Elements("RoleIDCode").Select(r => (string)r.Attribute("csd-code")!));

        var search = OrchestrationAuditMapper.Map(
            new WriteAuditActivity("reg-2/cmd-1", "reg-2", DateTimeOffset.UnixEpoch, AuditAction.SiteSearched, AuditOutcome.Success, AtnaSamples.PatientKey, null, "ch-est", null, "level=STUDY modalities=CT"),
            "orchestration");
        var query = XDocument.Parse(AuditMessageXml.ToXml(search)).Root!.Elements("ParticipantObjectIdentification").Single(o => (string?)o.Attribute("ParticipantObjectTypeCodeRole") == "24");
        Assert.Equal("level=STUDY modalities=CT", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)query.Element("ParticipantObjectQuery")!)));
        Assert.Null(query.Element("ParticipantObjectName"));
    }

    [Fact]
    public void The_message_is_one_line_even_when_values_hold_new_lines_or_control_characters()
    {
        var record = AtnaSamples.OrchestrationRecords("reg-3").First().Record with { OutcomeDescription = "line 1\r\nline 2\u0001\u0007 end" };

        var text = AuditMessageXml.ToXml(record);

        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain('\r', text);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?><AuditMessage>", text, StringComparison.Ordinal);
        var description = (string?)XDocument.Parse(text).Root!.Element("EventIdentification")!.Element("EventOutcomeDescription");
        Assert.Equal("line 1\r\nline 2\uFFFD\uFFFD end", description);
    }

    [Fact]
    public void The_same_record_always_gives_the_same_bytes_whatever_the_culture()
    {
        var record = AtnaSamples.OrchestrationRecords("reg-4").First().Record;
        var invariant = AuditMessageXml.ToUtf8(record);
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("ar-SA");
            Assert.Equal(invariant, AuditMessageXml.ToUtf8(record));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }
}
