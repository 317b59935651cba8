using System.CommandLine;
using ServerlessImaging.Dicom.Networking.Client;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom store HOST PORT --aet A --aec B FILE|DIR ...`: C-STORE files (directories recursively) on one association.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST");
        var port = new Argument<int>("PORT");
        var paths = new Argument<string[]>("PATHS") { Description = "files or directories", Arity = ArgumentArity.OneOrMore };
        var aet = new Option<string>("--aet") { Description = "calling AE title", DefaultValueFactory = _ => "SI_DICOM" };
        var aec = new Option<string>("--aec") { Description = "called AE title", DefaultValueFactory = _ => "ANY-SCP" };
        var command = new Command("store", "C-STORE Part 10 files") { host, port, paths, aet, aec };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            var files = new List<string>();
            foreach (var p in parse.GetValue(paths)!)
            {
                if (Directory.Exists(p)) files.AddRange(Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
                else if (File.Exists(p)) files.Add(p);
                else throw new FileNotFoundException($"No such file or directory: {p}");
            }
            var client = NetworkCliErrors.Client(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(aet)!, parse.GetValue(aec)!);
            var results = await client.StoreAsync(files, ct: ct);
            foreach (var failed in results.Where(r => !r.Succeeded))
                await Console.Error.WriteLineAsync($"dicom: {failed.Path}: status 0x{failed.Status:X4} {failed.Error}");
            var ok = results.Count(r => r.Succeeded);
            await Console.Out.WriteLineAsync($"stored {ok}/{results.Count}");
            return ok == results.Count ? 0 : 1;
        }));
        return command;
    }
}
