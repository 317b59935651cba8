using Microsoft.Azure.Functions.Worker;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestrators.Registrations;
using ServerlessImaging.Orchestrators.Transfers;

namespace ServerlessImaging.FunctionApp.Orchestrations;

/// <summary>
/// One activity trigger per <see cref="RegistrationActivities"/> name, each running the Cloud's activity class (the
/// singleton <c>AddOrchestrationRuntime</c> registers, the one the standalone host runs) with an
/// <see cref="ActivityInvocation"/> context. <c>instanceId</c> is bound from the activity trigger's binding data.
/// </summary>
public sealed class RegistrationActivityFunctions(
    CommitRegistrationStepTask commitStep,
    CommitStudyTransferStepTask commitTransferStep,
    StoreStudyTask storeStudy,
    StoreStagedInstancesTask storeStagedInstances,
    DeleteStudyTask deleteStudy,
    PurgeStudiesTask purgeStudies,
    SendExpertiseEmailTask sendExpertiseEmail,
    PublishManifestTask publishManifest)
{
    /// <summary><see cref="RegistrationActivities.CommitStep"/>.</summary>
    [Function(RegistrationActivities.CommitStep)]
    public Task<int> CommitStep([ActivityTrigger] RegistrationStepRecord input, string instanceId) => commitStep.RunAsync(new ActivityInvocation(RegistrationActivities.CommitStep, instanceId), input);

    /// <summary><see cref="StudyTransferActivities.CommitStep"/>.</summary>
    [Function(StudyTransferActivities.CommitStep)]
    public Task<int> CommitTransferStep([ActivityTrigger] StudyTransferStepRecord input, string instanceId) => commitTransferStep.RunAsync(new ActivityInvocation(StudyTransferActivities.CommitStep, instanceId), input);

    /// <summary><see cref="RegistrationActivities.StoreStudy"/>.</summary>
    [Function(RegistrationActivities.StoreStudy)]
    public Task<string?> StoreStudy([ActivityTrigger] StoreStudyActivity input, string instanceId) => storeStudy.RunAsync(new ActivityInvocation(RegistrationActivities.StoreStudy, instanceId), input);

    /// <summary><see cref="RegistrationActivities.StoreStagedInstances"/>.</summary>
    [Function(RegistrationActivities.StoreStagedInstances)]
    public Task<string?> StoreStagedInstances([ActivityTrigger] StoreStagedInstancesActivity input, string instanceId) => storeStagedInstances.RunAsync(new ActivityInvocation(RegistrationActivities.StoreStagedInstances, instanceId), input);

    /// <summary><see cref="RegistrationActivities.DeleteStudy"/>.</summary>
    [Function(RegistrationActivities.DeleteStudy)]
    public Task<string?> DeleteStudy([ActivityTrigger] DeleteStudyActivity input, string instanceId) => deleteStudy.RunAsync(new ActivityInvocation(RegistrationActivities.DeleteStudy, instanceId), input);

    /// <summary><see cref="RegistrationActivities.PurgeStudies"/>.</summary>
    [Function(RegistrationActivities.PurgeStudies)]
    public Task<string?> PurgeStudies([ActivityTrigger] PurgeStudiesActivity input, string instanceId) => purgeStudies.RunAsync(new ActivityInvocation(RegistrationActivities.PurgeStudies, instanceId), input);

    /// <summary><see cref="RegistrationActivities.SendExpertiseEmail"/>.</summary>
    [Function(RegistrationActivities.SendExpertiseEmail)]
    public Task<string?> SendExpertiseEmail([ActivityTrigger] SendExpertiseEmailActivity input, string instanceId) => sendExpertiseEmail.RunAsync(new ActivityInvocation(RegistrationActivities.SendExpertiseEmail, instanceId), input);

    /// <summary><see cref="RegistrationActivities.PublishManifest"/>.</summary>
    [Function(RegistrationActivities.PublishManifest)]
    public Task<string?> PublishManifest([ActivityTrigger] PublishManifestActivity input, string instanceId) => publishManifest.RunAsync(new ActivityInvocation(RegistrationActivities.PublishManifest, instanceId), input);
}
