using System.CommandLine;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using Spectre.Console;

// tools/run-local [--json] [--keep-running] [--seed N] | --stop
var jsonOption = new Option<bool>("--json") { Description = "Print one JSON summary object as the last line." };
var keepOption = new Option<bool>("--keep-running") { Description = "Leave the stack, the app and the relays running (stop with tools/run-local --stop)." };
var seedOption = new Option<ulong>("--seed") { Description = "Seed of the synthetic region.", DefaultValueFactory = _ => 42 };
var stopOption = new Option<bool>("--stop") { Description = "Stop what a previous --keep-running run left up, then exit." };
var root = new RootCommand("Runs a full registration locally: stack, region, cloud app, three relays, RCP calls, self-check.")
{
    jsonOption, keepOption, seedOption, stopOption,
};

root.SetAction(async (parse, cancellationToken) =>
{
    // Piped output (CI, --json consumers) would otherwise wrap tables at 80 columns.
    if (Console.IsOutputRedirected)
    {
        AnsiConsole.Profile.Width = 160;
    }

    var paths = RepositoryPaths.Discover();
    if (parse.GetValue(stopOption))
    {
        return await KeptProcesses.StopAsync(paths, cancellationToken);
    }

    var options = new LocalRunOptions(parse.GetValue(seedOption), parse.GetValue(jsonOption), parse.GetValue(keepOption));
    await using var run = new LocalRunner(paths, options);
    try
    {
        var summary = await run.RunAsync(cancellationToken);
        await run.ShutdownAsync(succeeded: true);
        if (options.Json)
        {
            Console.Out.WriteLine(summary.ToJson());
        }

        return 0;
    }
    catch (Exception ex) when (ex is LocalRunException or OperationCanceledException or HttpRequestException or IOException)
    {
        await run.ShutdownAsync(succeeded: false);
        var message = ex switch
        {
            LocalRunException failure => failure.Message,
            OperationCanceledException => "interrupted",
            _ => ex.GetType().Name + ": " + ex.Message,
        };
        // One line, on stderr only: stdout stays parseable for --json consumers (no JSON line on failure).
        Console.Error.WriteLine("run-local: FAILED: " + message);
        return 1;
    }
});

return await root.Parse(args).InvokeAsync();
