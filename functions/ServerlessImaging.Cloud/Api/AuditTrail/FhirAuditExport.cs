using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using ServerlessImaging.Orchestration.Audit;

namespace ServerlessImaging.Cloud.Api.AuditTrail;

/// <summary>
/// Exports a page of audit records as a FHIR R4 Bundle (type searchset) of AuditEvent resources, mapped the
/// way the FHIR spec maps DICOM audit messages: type = the DCM event id, action = C/R/U/D/E, outcome =
/// 0/4/8/12, recorded = when the app recorded it, period = when the event happened, agents = active participants,
/// entities = participant objects (patients by pseudonymous key only); a registration's sequence number and the trail it
/// numbers the record in (when not the registration's own) are extensions.
/// </summary>
public static class FhirAuditExport
{
    /// <summary>The FHIR JSON media type.</summary>
    public const string MediaType = "application/fhir+json";

    /// <summary>Extension carrying <see cref="AuditRecord.Sequence"/> (the record's place in its trail).</summary>
    public const string SequenceExtensionUrl = "urn:serverless-imaging:audit-sequence";

    /// <summary>Extension carrying <see cref="AuditRecord.Stream"/> (the trail the sequence is in; absent: the registration's own).</summary>
    public const string StreamExtensionUrl = "urn:serverless-imaging:audit-stream";

    private static readonly JsonSerializerOptions Json = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    /// <summary>The bundle of one page; <paramref name="nextUrl"/> becomes the "next" link.</summary>
    public static Bundle ToBundle(AuditPage page, string? nextUrl)
    {
        ArgumentNullException.ThrowIfNull(page);
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Total = null, Timestamp = DateTimeOffset.UtcNow };
        if (nextUrl is not null)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = nextUrl });
        }

        foreach (var record in page.Records)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + DeterministicGuid(record.Id),
                Resource = ToAuditEvent(record),
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        return bundle;
    }

    /// <summary>Serialises a resource as FHIR JSON.</summary>
    public static string Serialize(Resource resource) => JsonSerializer.Serialize(resource, resource.GetType(), Json);

    /// <summary>One record as an AuditEvent.</summary>
    public static AuditEvent ToAuditEvent(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var audit = new AuditEvent
        {
            Id = record.Id,
            Type = new Coding("http://dicom.nema.org/resources/ontology/DCM", record.EventId.Code, record.EventId.Display),
            Subtype = [new Coding("urn:serverless-imaging:audit-event-type", record.EventType)],
            Action = record.ActionCode switch
            {
                AuditActionCodes.Create => AuditEvent.AuditEventAction.C,
                AuditActionCodes.Read => AuditEvent.AuditEventAction.R,
                AuditActionCodes.Update => AuditEvent.AuditEventAction.U,
                AuditActionCodes.Delete => AuditEvent.AuditEventAction.D,
                _ => AuditEvent.AuditEventAction.E,
            },
            Recorded = record.RecordedAt,
            Period = new Period { Start = new FhirDateTime(record.DateTime).Value },
            Outcome = record.Outcome switch
            {
                0 => AuditEvent.AuditEventOutcome.N0,
                4 => AuditEvent.AuditEventOutcome.N4,
                8 => AuditEvent.AuditEventOutcome.N8,
                _ => AuditEvent.AuditEventOutcome.N12,
            },
            OutcomeDesc = Text(record.OutcomeDescription),
            Source = new AuditEvent.SourceComponent { Observer = new ResourceReference { Display = record.AuditSource } },
        };

        if (record.Sequence is { } sequence)
        {
            // R4 has no 64-bit integer type; a registration never writes anywhere near 2^31 records.
            audit.Extension.Add(new Extension(SequenceExtensionUrl, new Integer((int)Math.Min(sequence, int.MaxValue))));
        }

        if (Text(record.Stream) is { } stream)
        {
            audit.Extension.Add(new Extension(StreamExtensionUrl, new FhirString(stream)));
        }

        foreach (var participant in record.ActiveParticipants)
        {
            var agent = new AuditEvent.AgentComponent
            {
                Who = new ResourceReference { Identifier = new Identifier("urn:serverless-imaging:" + participant.Kind, Text(participant.UserId) ?? "unknown") },
                Requestor = participant.IsRequestor,
            };
            // FHIR strings and codes may not be empty or padded (the serializer refuses them): one code per role.
            foreach (var role in (participant.Role ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                agent.Role.Add(new CodeableConcept("urn:serverless-imaging:role", role));
            }

            if (Text(participant.NetworkAccessPoint) is { } address)
            {
                agent.Network = new AuditEvent.NetworkComponent { Address = address };
            }

            audit.Agent.Add(agent);
        }

        foreach (var entityObject in record.ParticipantObjects)
        {
            audit.Entity.Add(new AuditEvent.EntityComponent
            {
                What = new ResourceReference { Identifier = new Identifier("urn:serverless-imaging:" + entityObject.IdTypeCode, Text(entityObject.Id) ?? "unknown") },
                Type = new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", entityObject.TypeCode.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Role = new Coding("http://terminology.hl7.org/CodeSystem/object-role", entityObject.RoleCode.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Description = Text(entityObject.Detail),
            });
        }

        return audit;
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static Guid DeterministicGuid(string id)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id));
        return new Guid(hash.AsSpan(0, 16));
    }
}
