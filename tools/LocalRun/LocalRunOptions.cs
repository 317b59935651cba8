namespace ServerlessImaging.LocalRun;

/// <summary>What the operator asked for on the command line.</summary>
internal sealed record LocalRunOptions(ulong Seed, bool Json, bool KeepRunning);

/// <summary>An expected failure of the run: one clear line for the operator, no stack trace.</summary>
internal sealed class LocalRunException(string message) : Exception(message);
