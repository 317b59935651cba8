using System.CommandLine;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom scp --port P --aet AE --out DIR`: C-STORE/C-ECHO SCP writing received instances to DIR until Ctrl+C.</summary>
internal static class ScpCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "TCP port to listen on", Required = true };
        var aet = new Option<string>("--aet") { Description = "our AE title (called AE expected from peers)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "directory receiving {SOPInstanceUID}.dcm files", Required = true };
        var command = new Command("scp", "run a C-STORE/C-ECHO SCP") { port, aet, output };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            await using var server = DicomServer.Start(new DicomServerOptions { AeTitle = parse.GetValue(aet)!, Port = parse.GetValue(port) },
                new DirectoryInstanceSink(parse.GetValue(output)!.FullName));
            server.InstanceReceived += o => Console.Out.WriteLine($"0x{o.Status:X4} {o.Stored?.Location ?? o.Error}");
            server.AssociationFailed += ex => Console.Error.WriteLine($"association failed: {ex.GetType().Name}: {ex.Message}");
            await Console.Error.WriteLineAsync($"listening on port {server.Port} as {server.AeTitle}");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            return 0;
        }));
        return command;
    }
}
