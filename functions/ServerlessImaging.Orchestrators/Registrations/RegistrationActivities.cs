using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// Names of the activities the registration orchestration calls; each host registers an activity under each name
/// (the standalone host through the Durable Task Framework, the Functions app as <c>[ActivityTrigger]</c> functions).
/// </summary>
public static class RegistrationActivities
{
    /// <summary>Writes a step's audit records and the registration's read model (<see cref="RegistrationStepRecord"/>).</summary>
    public const string RecordStep = "RecordRegistrationStep";

    /// <summary>Sends FindStudies / RetrieveStudy (minting its staging credential) / Cancel to the sites' relays (<see cref="RelayCommandBatch"/>).</summary>
    public const string SendRelayCommands = "SendRelayCommands";

    /// <summary>STOW-RS of a staged study, checked and verified (<see cref="StoreStudyActivity"/> → event document).</summary>
    public const string StoreStudy = "StoreStudy";

    /// <summary>STOW-RS of instances staged while the retrieval goes on (<see cref="StoreStagedInstancesActivity"/>, no outcome).</summary>
    public const string StoreStagedInstances = "StoreStagedInstances";

    /// <summary>Removes one study from the DICOM service and staging (<see cref="DeleteStudyActivity"/> → event document).</summary>
    public const string DeleteStudy = "DeleteStudy";

    /// <summary>Retention purge (<see cref="PurgeStudiesActivity"/> → event document).</summary>
    public const string PurgeStudies = "PurgeStudies";

    /// <summary>The expertise e-mail, exactly once (<see cref="SendExpertiseEmailActivity"/> → event document).</summary>
    public const string SendExpertiseEmail = "SendExpertiseEmail";

    /// <summary>Every activity name.</summary>
    public static readonly IReadOnlyList<string> All = [RecordStep, SendRelayCommands, StoreStudy, StoreStagedInstances, DeleteStudy, PurgeStudies, SendExpertiseEmail];
}

/// <summary>
/// What one step of a registration leaves behind for the outside world: its audit records (numbered by the state
/// machine) and the state for the API's read model. Idempotent: records are keyed by id, the read model keeps the
/// highest <see cref="Version"/>.
/// </summary>
/// <param name="RegistrationId">The registration.</param>
/// <param name="Version">The state's version after the step.</param>
/// <param name="StateDocument">The state after the step (<see cref="RegistrationDocuments.WriteState"/>).</param>
/// <param name="Audit">The step's audit records, in sequence order.</param>
public sealed record RegistrationStepRecord(string RegistrationId, long Version, string StateDocument, IReadOnlyList<WriteAuditActivity> Audit);

/// <summary>Relay commands of one step, sent in order (message id = command id, so relays deduplicate a re-send).</summary>
/// <param name="Commands"><see cref="FindStudiesActivity"/>, <see cref="RetrieveStudyActivity"/> and <see cref="CancelRelayCommand"/> only.</param>
public sealed record RelayCommandBatch(IReadOnlyList<OrchestrationCommand> Commands);
