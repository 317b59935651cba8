using ServerlessImaging.Cloud.Configuration;

namespace ServerlessImaging.Cloud.Runtime;

/// <summary>Where a test can make the process die.</summary>
public enum FaultPoint
{
    /// <summary>StoreStudy stored its first batch, not the rest.</summary>
    CrashMidStore,
}

/// <summary>
/// Test-only crash point, read from <c>SI_FAULT</c> (<c>crash-mid-store</c>): off when the variable is unset, which is
/// always the case outside the crash tests, and refused outside the Development environment (<see cref="For"/>, and the
/// hosts' <see cref="CloudStartupCheck"/>). A hit calls <see cref="Environment.FailFast(string)"/>: no finally blocks, no
/// flushing, like a killed process. (Kills at any other moment are the fault suite's kill -9 of the process.)
/// </summary>
public sealed class FaultInjection
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "SI_FAULT";

    private readonly FaultPoint? _point;

    /// <summary>Parses <paramref name="setting"/> (null or empty: no fault).</summary>
    public FaultInjection(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return;
        }

        _point = setting.Trim() switch
        {
            "crash-mid-store" => FaultPoint.CrashMidStore,
            _ => throw new InvalidOperationException($"Unknown {Variable} value; expected crash-mid-store."),
        };
    }

    /// <summary>No fault.</summary>
    public static FaultInjection None { get; } = new(null);

    /// <summary>From the process environment, whatever the host environment (hosts use <see cref="For"/>).</summary>
    public static FaultInjection FromEnvironment() => new(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The armed point, if any.</summary>
    public FaultPoint? Armed => _point;

    /// <summary>The setting as the host sees it: its configuration (environment variables included), else the process environment.</summary>
    public static string? SettingOf(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[Variable] is { Length: > 0 } configured ? configured : Environment.GetEnvironmentVariable(Variable);
    }

    /// <summary>The fault point of a host: none when unset; refused outside Development, and for an unknown value.</summary>
    /// <exception cref="StartupRefusedException">Set outside Development, or to an unknown value.</exception>
    public static FaultInjection For(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var setting = SettingOf(configuration);
        if (string.IsNullOrWhiteSpace(setting))
        {
            return None;
        }

        if (!environment.IsDevelopment())
        {
            throw new StartupRefusedException($"{Variable} is Development-only (it arms a crash point); environment is '{environment.EnvironmentName}'.");
        }

        try
        {
            return new FaultInjection(setting);
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupRefusedException(ex.Message, ex);
        }
    }

    /// <summary>Dies if <paramref name="point"/> is armed.</summary>
    public void Hit(FaultPoint point)
    {
        if (_point == point)
        {
            Environment.FailFast($"{Variable}: injected crash at {point}.");
        }
    }
}
