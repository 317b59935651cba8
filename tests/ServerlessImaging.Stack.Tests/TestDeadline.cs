namespace ServerlessImaging.Stack.Tests;

/// <summary>A per-test deadline: a wedged stand-in fails the test instead of hanging the run.</summary>
internal static class TestDeadline
{
    private static readonly TimeSpan PerTest = TimeSpan.FromSeconds(90);

    public static CancellationToken Start() => new CancellationTokenSource(PerTest).Token;
}
