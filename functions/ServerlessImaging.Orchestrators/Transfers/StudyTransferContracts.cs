using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.Orchestrators.Transfers;

/// <summary>Input of <see cref="StudyTransferOrchestration"/>: what the registration decided, and how its store is retried.</summary>
/// <param name="Transfer">The study, its sites in order, the patient to check against, the rounds.</param>
/// <param name="Retry">How StoreStudy is retried before it is given up.</param>
public sealed record StudyTransferOrchestrationInput(StudyTransferInput Transfer, ActivityRetrySettings Retry);

/// <summary>
/// What one step of a transfer leaves for the outside world, carried out by <see cref="StudyTransferActivities.CommitStep"/>:
/// its audit records (numbered in the transfer's own trail), its relay commands (in order), its progress for the read model.
/// Idempotent like the registration's commit: records keyed by id, relays deduplicate by message id, highest progress version wins.
/// </summary>
/// <param name="TransferId">The transfer.</param>
/// <param name="RegistrationId">The registration.</param>
/// <param name="Audit">Audit records, in sequence order.</param>
/// <param name="RelayCommands"><see cref="RetrieveStudyActivity"/> and <see cref="CancelRelayCommand"/>, in order.</param>
/// <param name="Progress">Where the transfer stands after the step.</param>
public sealed record StudyTransferStepRecord(string TransferId, string RegistrationId, IReadOnlyList<WriteAuditActivity> Audit, IReadOnlyList<OrchestrationCommand> RelayCommands, StudyTransferProgress Progress);

/// <summary>Names of the activities only a transfer calls (it also calls <see cref="RegistrationActivities.StoreStudy"/> and <see cref="RegistrationActivities.StoreStagedInstances"/>).</summary>
public static class StudyTransferActivities
{
    /// <summary>Carries out one step of a transfer (<see cref="StudyTransferStepRecord"/>).</summary>
    public const string CommitStep = "CommitStudyTransferStep";
}
