using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;

namespace ServerlessImaging.FunctionApp.Orchestrations;

/// <summary>
/// The orchestration triggers of <see cref="RegistrationOrchestration"/> and <see cref="StudyTransferOrchestration"/>: what Microsoft.DurableTask.Generators would emit
/// for a class-based orchestrator (that package is not served here, so it is written by hand).
/// </summary>
public static class RegistrationOrchestrationFunction
{
    /// <summary>Runs (and replays) one registration's orchestration.</summary>
    [Function(RegistrationOrchestration.Name)]
    public static Task<string> Run([OrchestrationTrigger] TaskOrchestrationContext context) => new RegistrationOrchestration().RunAsync(context, context.GetInput<RegistrationOrchestrationInput>()!);

    /// <summary>Runs (and replays) one selected study's transfer, a sub-orchestration of its registration.</summary>
    [Function(StudyTransferOrchestration.Name)]
    public static Task<StudyTransferOutcome> RunTransfer([OrchestrationTrigger] TaskOrchestrationContext context) => new StudyTransferOrchestration().RunAsync(context, context.GetInput<StudyTransferOrchestrationInput>()!);
}
