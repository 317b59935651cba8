using Microsoft.DurableTask;

namespace ServerlessImaging.FunctionApp.Orchestrations;

/// <summary>
/// The <see cref="TaskActivityContext"/> an activity trigger hands to a class-based activity: the activity's name and the
/// calling orchestration's instance id (the activity trigger's <c>instanceId</c> binding data). This is the context class
/// Microsoft.DurableTask.Generators emits for Azure Functions (<c>GeneratedActivityContext</c>), written by hand because
/// that package is not served here; the standalone host gets its context from the Durable Task worker's shim instead.
/// </summary>
public sealed class ActivityInvocation(TaskName name, string instanceId) : TaskActivityContext
{
    /// <inheritdoc />
    public override TaskName Name { get; } = name;

    /// <inheritdoc />
    public override string InstanceId { get; } = instanceId;
}
