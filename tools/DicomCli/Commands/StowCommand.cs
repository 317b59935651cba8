using System.CommandLine;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Stow;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom stow URL FILE|DIR ...`: STOW-RS of every file (directories recursively) in one streamed request.</summary>
internal static class StowCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "DICOMweb base URL, e.g. http://127.0.0.1:8144/dicom-web/" };
        var inputs = new Argument<string[]>("FILE|DIR") { Description = "Part 10 files or folders", Arity = ArgumentArity.OneOrMore };
        var study = new Option<string?>("--study") { Description = "POST to studies/{UID}: the server refuses instances of other studies" };
        var command = new Command("stow", "store files into a DICOMweb service (STOW-RS)") { url, inputs, study };
        command.SetAction((parse, ct) => WebCliErrors.RunAsync("stow", async () =>
        {
            var files = new List<string>();
            foreach (var input in parse.GetValue(inputs)!)
            {
                if (Directory.Exists(input))
                {
                    files.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
                }
                else if (File.Exists(input))
                {
                    files.Add(input);
                }
                else
                {
                    throw new FileNotFoundException($"No such file or folder: {input}");
                }
            }
            if (files.Count == 0)
            {
                throw new ArgumentException("Nothing to store: the folders are empty.");
            }
            using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = WebCliErrors.BaseUrl(parse.GetValue(url)!) });
            var result = await client.StoreFilesAsync(files, parse.GetValue(study), ct);
            await Console.Out.WriteLineAsync($"HTTP {(int)result.StatusCode}: stored {result.Stored.Count}, failed {result.Failed.Count}, unreported {result.UnreportedCount} of {result.SentCount}");
            foreach (var failed in result.Failed)
            {
                await Console.Out.WriteLineAsync($"failed {failed.SopInstanceUid}: {failed.Description} (0x{failed.FailureReason:X4})");
            }
            foreach (var warning in result.Warnings)
            {
                await Console.Out.WriteLineAsync("warning: " + warning);
            }
            if (result.Outcome != StowOutcome.Success)
            {
                await Console.Error.WriteLineAsync($"dicom stow: {result.Outcome}: {result.Stored.Count} of {result.SentCount} instances stored.");
                return 1;
            }
            return 0;
        }));
        return command;
    }
}
