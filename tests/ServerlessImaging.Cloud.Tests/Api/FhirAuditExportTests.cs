using Hl7.Fhir.Validation;
using ServerlessImaging.Cloud.Api.AuditTrail;
using ServerlessImaging.Orchestration.Audit;
using FhirModel = Hl7.Fhir.Model;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>The FHIR mapping of one record, alone: where a record's sequence and stream go.</summary>
public sealed class FhirAuditExportTests
{
    private static readonly AuditRecord Own = new()
    {
        Id = "au-1",
        PartitionKey = "2030-03-14",
        EventId = AuditEventIds.DicomInstancesTransferred,
        EventType = "RetrievalCompleted",
        ActionCode = AuditActionCodes.Create,
        DateTime = new DateTimeOffset(2030, 3, 14, 8, 0, 0, TimeSpan.Zero),
        RecordedAt = new DateTimeOffset(2030, 3, 14, 8, 0, 1, TimeSpan.Zero),
        Sequence = 3,
        Outcome = AuditOutcomeCodes.Success,
        AuditSource = "test",
        ActiveParticipants = [new AuditParticipant("serverless-imaging", "application", true, "application")],
        ParticipantObjects = [AuditParticipantObject.Registration("reg-1")],
        RegistrationId = "reg-1",
    };

    private static string? ExtensionValue(FhirModel.AuditEvent audit, string url) => audit.Extension.SingleOrDefault(x => x.Url == url)?.Value?.ToString();

    [Fact]
    public void A_sub_orchestrations_record_carries_its_stream_beside_its_sequence_and_the_registrations_own_none()
    {
        var own = FhirAuditExport.ToAuditEvent(Own);
        Assert.Equal("3", ExtensionValue(own, FhirAuditExport.SequenceExtensionUrl));
        Assert.Null(ExtensionValue(own, FhirAuditExport.StreamExtensionUrl));

        var record = Own with { Stream = "reg-1:transfer:1.2.3:t1" };
        var transfer = FhirAuditExport.ToAuditEvent(record);
        Assert.Equal("3", ExtensionValue(transfer, FhirAuditExport.SequenceExtensionUrl));
        Assert.Equal("reg-1:transfer:1.2.3:t1", ExtensionValue(transfer, FhirAuditExport.StreamExtensionUrl));
        Assert.Empty(FhirAuditExport.ToBundle(new AuditPage([record], null), null).Validate(FhirModel.ModelInfo.ModelInspector));
    }
}
