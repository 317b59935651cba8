using System.CommandLine;
using System.Text;
using ServerlessImaging.Dicom;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom dump [--json] FILE`: prints the file meta and dataset as text (dcmdump-like) or as PS3.18 JSON.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "DICOM file (Part 10, or a bare dataset)" };
        var json = new Option<bool>("--json") { Description = "print the dataset as DICOM JSON (PS3.18 Annex F) on stdout" };
        var command = new Command("dump", "print a DICOM file") { file, json };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var dicom = await DicomFile.OpenAsync(parse.GetValue(file)!.FullName, cancellationToken: ct);
            var output = new StringBuilder();
            if (parse.GetValue(json))
            {
                output.Append(DicomJson.Serialize(dicom.Dataset, new DicomJsonOptions { Indented = true }));
            }
            else
            {
                output.Append("# File meta information (").Append(dicom.TransferSyntax.Name).Append(")\n");
                WriteText(output, dicom.FileMetaInfo, 0);
                output.Append("# Dataset\n");
                WriteText(output, dicom.Dataset, 0);
            }
            await Console.Out.WriteLineAsync(output.ToString());
            return 0;
        }));
        return command;
    }

    private static void WriteText(StringBuilder sb, DicomDataset ds, int depth)
    {
        var indent = new string(' ', depth * 2);
        foreach (var item in ds)
        {
            var keyword = item.Tag.Keyword ?? "";
            switch (item)
            {
                case DicomSequence sq:
                    sb.Append(indent).Append(item.Tag).Append(" SQ (").Append(sq.Items.Count).Append(" items)  # ").Append(keyword).Append('\n');
                    foreach (var child in sq.Items)
                    {
                        sb.Append(indent).Append("  (FFFE,E000) item\n");
                        WriteText(sb, child, depth + 2);
                    }
                    break;
                case DicomFragmentSequence fs:
                    sb.Append(indent).Append(item.Tag).Append(' ').Append(item.VR).Append(" (encapsulated: offset table ")
                        .Append(fs.OffsetTable.Length).Append(" bytes, ").Append(fs.Fragments.Count).Append(" fragments)  # ").Append(keyword).Append('\n');
                    break;
                case DicomElement e:
                    sb.Append(indent).Append(item.Tag).Append(' ').Append(item.VR).Append(' ').Append(Describe(ds, e))
                        .Append("  # ").Append(e.Length).Append(", ").Append(keyword).Append('\n');
                    break;
            }
        }
    }

    private static string Describe(DicomDataset ds, DicomElement e)
    {
        if (e.VR.Kind == VRKind.Bytes)
        {
            return e.Value.IsInMemory ? $"({e.Length} bytes)" : $"({e.Length} bytes, not loaded)";
        }
        var text = ds.GetString(e.Tag);
        return text.Length > 120 ? $"[{text[..117]}...]" : $"[{text}]";
    }
}
