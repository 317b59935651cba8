using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// Names of the activities the registration orchestration calls; each host registers an activity under each name
/// (the standalone host through the Durable Task Framework, the Functions app as <c>[ActivityTrigger]</c> functions).
/// </summary>
public static class RegistrationActivities
{
    /// <summary>
    /// Carries out what applied steps decided (<see cref="RegistrationStepRecord"/>): writes their audit records, sends
    /// their relay commands (FindStudies, RetrieveStudy with a freshly minted staging credential, Cancel) and records the
    /// state reached in the read model.
    /// </summary>
    public const string CommitStep = "CommitRegistrationStep";

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

    /// <summary>Publishes (or withdraws) the registration's imaging manifest (<see cref="PublishManifestActivity"/> → event document).</summary>
    public const string PublishManifest = "PublishRegistrationManifest";

    /// <summary>Every activity name.</summary>
    public static readonly IReadOnlyList<string> All = [CommitStep, StoreStudy, StoreStagedInstances, DeleteStudy, PurgeStudies, SendExpertiseEmail, PublishManifest];
}

/// <summary>
/// What one or more applied steps of a registration leave for the outside world: their audit records (numbered by the
/// state machine), their relay commands, the state reached for the API's read model. Idempotent: records are keyed by
/// id, relays deduplicate commands by message id (= command id), the read model keeps the highest <see cref="Version"/>.
/// </summary>
/// <param name="RegistrationId">The registration.</param>
/// <param name="Version">The state's version after the steps.</param>
/// <param name="StateDocument">The state after the steps (<see cref="RegistrationDocuments.WriteState"/>).</param>
/// <param name="Audit">The steps' audit records, in sequence order.</param>
/// <param name="RelayCommands"><see cref="FindStudiesActivity"/>, <see cref="RetrieveStudyActivity"/>, <see cref="DeliverStudyActivity"/> and <see cref="CancelRelayCommand"/>, in decision order.</param>
public sealed record RegistrationStepRecord(string RegistrationId, long Version, string StateDocument, IReadOnlyList<WriteAuditActivity> Audit, IReadOnlyList<OrchestrationCommand> RelayCommands);
