using System.CommandLine;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom echo HOST PORT --aet CALLING --aec CALLED`: C-ECHO (verification).</summary>
internal static class EchoCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST");
        var port = new Argument<int>("PORT");
        var aet = new Option<string>("--aet") { Description = "calling AE title", DefaultValueFactory = _ => "SI_DICOM" };
        var aec = new Option<string>("--aec") { Description = "called AE title", DefaultValueFactory = _ => "ANY-SCP" };
        var command = new Command("echo", "C-ECHO a DICOM peer") { host, port, aet, aec };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            var status = await NetworkCliErrors.Client(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(aet)!, parse.GetValue(aec)!).EchoAsync(ct);
            if (status != 0)
            {
                await Console.Error.WriteLineAsync($"dicom: C-ECHO status 0x{status:X4}");
                return 1;
            }
            await Console.Out.WriteLineAsync("C-ECHO succeeded");
            return 0;
        }));
        return command;
    }
}
