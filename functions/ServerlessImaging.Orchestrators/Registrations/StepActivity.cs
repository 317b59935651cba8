using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace ServerlessImaging.Orchestrators.Registrations;

/// <summary>
/// A step activity (audit records, relay commands, read model) must eventually succeed: retried quickly by the engine,
/// then again after a pause, for a day, while events and timers wait. After that the orchestration fails, visibly.
/// </summary>
internal static class StepActivity
{
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(6, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(30)));
    private static readonly TimeSpan Pause = TimeSpan.FromMinutes(1);
    private const int MaxPauses = 24 * 60;

    public static async Task UntilDoneAsync(TaskOrchestrationContext context, string activity, object input, string instanceLabel)
    {
        for (var pause = 0; pause <= MaxPauses; pause++)
        {
            try
            {
                await context.CallActivityAsync(activity, input, Retry);
                return;
            }
            catch (TaskFailedException failure) when (pause < MaxPauses)
            {
                context.CreateReplaySafeLogger(nameof(StepActivity)).LogWarning("{Instance}: {Activity} failed ({Error}); tried again in {Pause}.", instanceLabel, activity, failure.FailureDetails.ErrorType, Pause);
                await context.CreateTimer(Pause, CancellationToken.None);
            }
        }
    }
}
