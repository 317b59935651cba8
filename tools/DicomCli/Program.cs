using System.CommandLine;
using ServerlessImaging.DicomCli.Commands;

// One verb per file under Commands/; add new verbs to this list.
var root = new RootCommand("ServerlessImaging DICOM toolkit command line")
{
    DumpCommand.Create(),
    ConvertCommand.Create(),
    EchoCommand.Create(),
    FindCommand.Create(),
    GetCommand.Create(),
    MoveCommand.Create(),
    StoreCommand.Create(),
    ScpCommand.Create(),
    QidoCommand.Create(),
    StowCommand.Create(),
    WadoCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
