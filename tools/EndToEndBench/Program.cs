using ServerlessImaging.EndToEndBench;
using ServerlessImaging.LocalRun;
using Spectre.Console;

// tools/end-to-end-bench [--studies 3] [--instances 50] [--rounds 3] [--registrations 60] [--concurrency 8] [--poll-ms 200] [--only Transfer|Registrations] [--json]
var cli = new BenchOptions.CommandLine();
cli.Root.SetAction(async (parse, cancellationToken) =>
{
    // Piped output would otherwise wrap the tables at 80 columns.
    if (Console.IsOutputRedirected)
    {
        AnsiConsole.Profile.Width = 160;
    }

    var options = cli.Read(parse);
    await using var run = new BenchRun(RepositoryPaths.Discover(), options);
    try
    {
        var summary = await run.RunAsync(cancellationToken);
        await run.StopAsync();
        summary.Print();
        if (options.Json)
        {
            Console.Out.WriteLine(summary.ToJson());
        }

        return 0;
    }
    catch (Exception ex) when (ex is LocalRunException or OperationCanceledException or HttpRequestException or IOException)
    {
        await run.StopAsync();
        Console.Error.WriteLine("end-to-end-bench: FAILED: " + (ex is LocalRunException ? ex.Message : ex.GetType().Name + ": " + ex.Message));
        return 1;
    }
});

return await cli.Root.Parse(args).InvokeAsync();
