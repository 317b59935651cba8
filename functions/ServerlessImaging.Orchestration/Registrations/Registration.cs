using ServerlessImaging.Orchestration.Meetings;

namespace ServerlessImaging.Orchestration.Registrations;

/// <summary>A patient registered to a meeting: who, with what consent, by whom, with which filter.</summary>
/// <param name="Id">Registration id (the orchestration instance id and every message's correlation id).</param>
/// <param name="MeetingId">Meeting the patient is registered to.</param>
/// <param name="Patient">Strong identity traits.</param>
/// <param name="Consent">The consent gate; every item must be true.</param>
/// <param name="Requester">The clinician registering the patient.</param>
/// <param name="FilterOverride">Optional override of the meeting's imaging filter.</param>
/// <param name="ExpertiseRequested">True when the "Demande d'expertise" box was ticked.</param>
public sealed record Registration(
    string Id,
    string MeetingId,
    PatientIdentity Patient,
    Consent Consent,
    Requester Requester,
    ImagingFilterOverride? FilterOverride,
    bool ExpertiseRequested);

/// <summary>
/// The patient was informed of the computerisation and sharing of their data and of its hosting by
/// a certified health-data host (HDS), and did not object.
/// </summary>
public sealed record Consent(bool InformedOfComputerisation, bool InformedOfSharing, bool InformedOfHdsHosting, bool NoObjection)
{
    /// <summary>True when registration may proceed.</summary>
    public bool IsGiven => InformedOfComputerisation && InformedOfSharing && InformedOfHdsHosting && NoObjection;
}

/// <summary>The clinician who registers the patient (not patient data; appears in the audit).</summary>
public sealed record Requester(string Id, string Name, string? Email);
