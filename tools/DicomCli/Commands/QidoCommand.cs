using System.CommandLine;
using System.Text.Json;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Qido;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom qido URL [-k Key=Value ...] [--level studies|series|instances]`: QIDO-RS search, DICOM JSON array on stdout.</summary>
internal static class QidoCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "DICOMweb base URL, e.g. http://127.0.0.1:8144/dicom-web/" };
        var keys = new Option<string[]>("--key", "-k") { Description = "matching key Keyword=Value or gggggggg=Value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var level = new Option<QidoLevel>("--level") { Description = "studies, series or instances", DefaultValueFactory = _ => QidoLevel.Studies };
        var study = new Option<string?>("--study") { Description = "limit a series/instance search to this study" };
        var series = new Option<string?>("--series") { Description = "limit an instance search to this series" };
        var include = new Option<string[]>("--include") { Description = "includefield (keyword or tag, repeatable; 'all' for every field)" };
        var fuzzy = new Option<bool>("--fuzzy") { Description = "fuzzymatching=true" };
        var limit = new Option<int?>("--limit") { Description = "at most this many results (paged 100 at a time)" };
        var command = new Command("qido", "search a DICOMweb service (QIDO-RS)") { url, keys, level, study, series, include, fuzzy, limit };
        command.SetAction((parse, ct) => WebCliErrors.RunAsync("qido", async () =>
        {
            var query = parse.GetValue(level) switch
            {
                QidoLevel.Series => QidoQuery.Series(parse.GetValue(study)),
                QidoLevel.Instances => QidoQuery.Instances(parse.GetValue(study), parse.GetValue(series)),
                _ => QidoQuery.Studies(),
            };
            foreach (var pair in parse.GetValue(keys) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new ArgumentException($"'{pair}' is not Key=Value.");
                }
                query = query.With(pair[..equals], pair[(equals + 1)..]);
            }
            foreach (var field in parse.GetValue(include) ?? [])
            {
                query = field.Equals("all", StringComparison.OrdinalIgnoreCase) ? query.IncludeAll() : query.Include(field);
            }
            query = query.WithFuzzyMatching(parse.GetValue(fuzzy)).WithLimit(parse.GetValue(limit));

            using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = WebCliErrors.BaseUrl(parse.GetValue(url)!) });
            // Collect every page first: a failure on page 3 must not leave half a JSON array on stdout.
            var results = await client.SearchAsync(query, ct).ToListAsync(ct);
            await using var stdout = Console.OpenStandardOutput();
            await using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
            writer.WriteStartArray();
            foreach (var dataset in results)
            {
                DicomJson.Write(writer, dataset);
            }
            writer.WriteEndArray();
            await writer.FlushAsync(ct);
            await stdout.WriteAsync("\n"u8.ToArray(), ct);
            return 0;
        }));
        return command;
    }
}
