using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.FunctionApp.Runtime;

/// <summary>Where a test can make the process die.</summary>
public enum FaultPoint
{
    /// <summary>State and outbox saved, nothing dispatched.</summary>
    CrashAfterSave,

    /// <summary>Commands dispatched, outbox not yet marked.</summary>
    CrashAfterDispatch,

    /// <summary>StoreStudy stored its first batch, not the rest.</summary>
    CrashMidStore,
}

/// <summary>
/// Test-only crash points, read from <c>SI_FAULT</c> (<c>crash-after-save:&lt;Command&gt;</c>, <c>crash-after-dispatch:&lt;Command&gt;</c>,
/// <c>crash-mid-store</c>; the command is a type discriminator such as <c>StoreStudy</c> or <c>RetrieveStudy</c>).
/// Off when the variable is unset, which is always the case outside the crash tests. A hit calls
/// <see cref="Environment.FailFast(string)"/>: no finally blocks, no flushing, like a killed process.
/// </summary>
public sealed class FaultInjection
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "SI_FAULT";

    private readonly FaultPoint? _point;
    private readonly string? _commandType;

    /// <summary>Parses <paramref name="setting"/> (null or empty: no fault).</summary>
    public FaultInjection(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return;
        }

        var parts = setting.Split(':', 2, StringSplitOptions.TrimEntries);
        _point = parts[0] switch
        {
            "crash-after-save" => FaultPoint.CrashAfterSave,
            "crash-after-dispatch" => FaultPoint.CrashAfterDispatch,
            "crash-mid-store" => FaultPoint.CrashMidStore,
            _ => throw new InvalidOperationException($"Unknown {Variable} value; expected crash-after-save:<Command>, crash-after-dispatch:<Command> or crash-mid-store."),
        };
        _commandType = parts.Length > 1 ? parts[1] : null;
    }

    /// <summary>No fault.</summary>
    public static FaultInjection None { get; } = new(null);

    /// <summary>From the process environment.</summary>
    public static FaultInjection FromEnvironment() => new(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Dies if <paramref name="point"/> is armed and one of <paramref name="commands"/> has the armed type.</summary>
    public void Hit(FaultPoint point, IEnumerable<OrchestrationCommand> commands)
    {
        if (_point != point)
        {
            return;
        }

        if (_commandType is null || commands.Any(c => string.Equals(CommandTypeName(c), _commandType, StringComparison.Ordinal)))
        {
            Environment.FailFast($"{Variable}: injected crash at {point}.");
        }
    }

    /// <summary>Dies if <paramref name="point"/> is armed (points not tied to a command).</summary>
    public void Hit(FaultPoint point) => Hit(point, []);

    /// <summary>The command's JSON discriminator without the "Activity" suffix (FindStudies, RetrieveStudy, StoreStudy…).</summary>
    public static string CommandTypeName(OrchestrationCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var name = command.GetType().Name;
        return name.EndsWith("Activity", StringComparison.Ordinal) ? name[..^"Activity".Length] : name;
    }
}
