using System.Text.Json;
using ServerlessImaging.LocalRun.Scenario;

namespace ServerlessImaging.LocalRun;

/// <summary>The --json summary: one object, printed as the last line.</summary>
internal sealed record RunSummary(
    string RegistrationId,
    string ApiUrl,
    string DicomWebUrl,
    IReadOnlyList<SiteHealth> Sites,
    int Candidates,
    int NearMissesRejected,
    IReadOnlyList<string> SelectedStudies,
    IReadOnlyList<AvailableStudy> AvailableStudies,
    int EmailsReceived,
    int AuditRecords)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(
        new
        {
            registrationId = RegistrationId,
            apiUrl = ApiUrl,
            dicomWebUrl = DicomWebUrl,
            sites = Sites.Select(s => new { siteId = s.SiteId, relayVersion = s.RelayVersion, lastSeen = s.LastSeen, pacsEcho = s.PacsEcho }),
            candidates = Candidates,
            nearMissesRejected = NearMissesRejected,
            selectedStudies = SelectedStudies,
            availableStudies = AvailableStudies.Select(a => new { studyUid = a.StudyUid, instances = a.Instances }),
            emailsReceived = EmailsReceived,
            auditRecords = AuditRecords,
        },
        Options);
}
