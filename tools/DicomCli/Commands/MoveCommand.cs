using System.CommandLine;
using ServerlessImaging.Dicom.Networking.Client;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom move HOST PORT --aet A --aec B --dest AE --study UID`: C-MOVE a study to a destination AE, printing progress on stderr.</summary>
internal static class MoveCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST");
        var port = new Argument<int>("PORT");
        var aet = new Option<string>("--aet") { Description = "calling AE title", DefaultValueFactory = _ => "SI_DICOM" };
        var aec = new Option<string>("--aec") { Description = "called AE title", DefaultValueFactory = _ => "ANY-SCP" };
        var dest = new Option<string>("--dest") { Description = "move destination AE title", Required = true };
        var study = new Option<string>("--study") { Description = "Study Instance UID", Required = true };
        var series = new Option<string?>("--series") { Description = "Series Instance UID (move one series)" };
        var command = new Command("move", "C-MOVE a study or series to another AE") { host, port, aet, aec, dest, study, series };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            var client = NetworkCliErrors.Client(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(aet)!, parse.GetValue(aec)!);
            var (level, keys) = DicomClient.RetrieveKeys(parse.GetValue(study)!, parse.GetValue(series));
            var progress = new Progress<SubOperationProgress>(p =>
                Console.Error.WriteLine($"remaining {p.Remaining}, completed {p.Completed}, failed {p.Failed}, warning {p.Warning}"));
            var result = await client.MoveAsync(QueryModel.StudyRoot, level, keys, parse.GetValue(dest)!, progress, ct);
            await Console.Out.WriteLineAsync($"completed {result.Progress.Completed}, failed {result.Progress.Failed}, warning {result.Progress.Warning}, status 0x{result.Status:X4}");
            if (!result.Succeeded) await Console.Error.WriteLineAsync($"dicom: C-MOVE ended with status 0x{result.Status:X4}");
            return result.Succeeded ? 0 : 1;
        }));
        return command;
    }
}
