using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using ServerlessImaging.Orchestrators.Registrations;

namespace ServerlessImaging.FunctionApp.Orchestrations;

/// <summary>
/// The orchestration trigger of <see cref="RegistrationOrchestration"/>: what Microsoft.DurableTask.Generators would emit
/// for a class-based orchestrator (that package is not served here, so it is written by hand).
/// </summary>
public static class RegistrationOrchestrationFunction
{
    /// <summary>Runs (and replays) one registration's orchestration.</summary>
    [Function(RegistrationOrchestration.Name)]
    public static Task<string> Run([OrchestrationTrigger] TaskOrchestrationContext context) => new RegistrationOrchestration().RunAsync(context, context.GetInput<RegistrationOrchestrationInput>()!);
}
