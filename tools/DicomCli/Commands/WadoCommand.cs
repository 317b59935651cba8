using System.CommandLine;
using ServerlessImaging.Dicom.Web;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom wado URL STUDY --out DIR`: WADO-RS retrieve (original transfer syntax) into {SOPInstanceUID}.dcm files.</summary>
internal static class WadoCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "DICOMweb base URL, e.g. http://127.0.0.1:8144/dicom-web/" };
        var study = new Argument<string>("STUDY") { Description = "Study Instance UID" };
        var series = new Option<string?>("--series") { Description = "only this series" };
        var instance = new Option<string?>("--instance") { Description = "only this instance (needs --series)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder to write into (created if missing)", Required = true };
        var command = new Command("wado", "retrieve a study, series or instance from a DICOMweb service (WADO-RS)") { url, study, series, instance, output };
        command.SetAction((parse, ct) => WebCliErrors.RunAsync("wado", async () =>
        {
            using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = WebCliErrors.BaseUrl(parse.GetValue(url)!) });
            var saved = await client.RetrieveToFolderAsync(parse.GetValue(output)!.FullName, parse.GetValue(study)!, parse.GetValue(series), parse.GetValue(instance), ct);
            await Console.Out.WriteLineAsync($"{saved.Count} instances written to {parse.GetValue(output)!.FullName}");
            return 0;
        }));
        return command;
    }
}
