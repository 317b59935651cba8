using System.Diagnostics;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Process;

[Collection(LocalStackFixture.CollectionName)]
public sealed class KillAndResumeTests(LocalStackFixture stack)
{
    private const int Instances = 150;

    private static System.Diagnostics.Process StartRelayProcess(RelayUnderTest relay)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "si-relay.dll")])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in relay.Environment())
        {
            start.Environment[key] = value;
        }

        start.Environment["TCP_NODELAY"] = "1";
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<int> CountAsync(RelayUnderTest relay, string prefix)
    {
        var count = 0;
        await foreach (var _ in relay.Staging.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix + "/" }))
        {
            count++;
        }

        return count;
    }

    [Theory]
    [InlineData("Move")]
    [InlineData("Get")]
    public async Task A_relay_killed_mid_retrieval_resumes_the_same_command_after_restart_with_nothing_missing_or_duplicated(string method)
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: Instances);
        await using var relay = new RelayUnderTest(stack, "chu-nord", method, tweak: s => s["Relay:UploadConcurrency"] = "1");
        await relay.Staging.CreateIfNotExistsAsync();
        var prefix = "reg-kill/study";
        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, prefix));

        using (var first = StartRelayProcess(relay))
        {
            await relay.SendAsync(command);
            var staged = 0;
            var deadline = Stopwatch.StartNew();
            while (staged < 5 && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Assert.False(first.HasExited, "the relay process exited on its own");
                await Task.Delay(5);
                staged = await CountAsync(relay, prefix);
            }

            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no cleanup
            await first.WaitForExitAsync();
            staged = await CountAsync(relay, prefix);
            Assert.InRange(staged, 5, Instances - 1);
        }

        using var second = StartRelayProcess(relay);
        try
        {
            // Same message, redelivered once its lease (10 s here) runs out.
            var completed = await relay.AnswerAsync<RetrievalCompleted>(command, TimeSpan.FromSeconds(90));

            Assert.Equal(Instances, completed.Manifest.Count);
            await StagingAssertions.AssertStagedExactlyAsync(relay, study, prefix, completed);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }
}
