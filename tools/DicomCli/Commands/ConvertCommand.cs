using System.CommandLine;
using ServerlessImaging.Dicom;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom convert IN OUT`: rewrites a file as Part 10 Explicit VR Little Endian (encapsulated pixel data keeps its syntax).</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("IN") { Description = "DICOM file to read" };
        var output = new Argument<FileInfo>("OUT") { Description = "Part 10 file to write" };
        var command = new Command("convert", "rewrite as Part 10 Explicit VR Little Endian (encapsulated kept)") { input, output };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var file = await DicomFile.OpenAsync(parse.GetValue(input)!.FullName, cancellationToken: ct);
            var syntax = file.TransferSyntax.IsEncapsulated ? file.TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian;
            await file.SaveAsync(parse.GetValue(output)!.FullName, syntax, ct);
            return 0;
        }));
        return command;
    }
}
