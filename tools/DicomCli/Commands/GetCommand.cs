using System.CommandLine;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Storage;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom get HOST PORT --aet A --aec B --study UID [--series UID] --out DIR`: C-GET into a directory.</summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST");
        var port = new Argument<int>("PORT");
        var aet = new Option<string>("--aet") { Description = "calling AE title", DefaultValueFactory = _ => "SI_DICOM" };
        var aec = new Option<string>("--aec") { Description = "called AE title", DefaultValueFactory = _ => "ANY-SCP" };
        var study = new Option<string>("--study") { Description = "Study Instance UID", Required = true };
        var series = new Option<string?>("--series") { Description = "Series Instance UID (retrieve one series)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "directory receiving {SOPInstanceUID}.dcm files", Required = true };
        var command = new Command("get", "C-GET a study or series") { host, port, aet, aec, study, series, output };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            var client = NetworkCliErrors.Client(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(aet)!, parse.GetValue(aec)!);
            var (level, keys) = DicomClient.RetrieveKeys(parse.GetValue(study)!, parse.GetValue(series));
            var result = await client.GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(parse.GetValue(output)!.FullName), ct: ct);
            await Console.Out.WriteLineAsync($"received {result.Received.Count}, completed {result.Progress.Completed}, failed {result.Progress.Failed}, warning {result.Progress.Warning}, status 0x{result.Status:X4}");
            if (!result.Succeeded) await Console.Error.WriteLineAsync($"dicom: C-GET ended with status 0x{result.Status:X4}");
            return result.Succeeded ? 0 : 1;
        }));
        return command;
    }
}
