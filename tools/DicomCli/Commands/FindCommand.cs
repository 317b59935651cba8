using System.CommandLine;
using System.Text.Json;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>`dicom find HOST PORT --aet A --aec B --level STUDY [--patient-root] -k Keyword=Value ... [--json]`: C-FIND.</summary>
internal static class FindCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST");
        var port = new Argument<int>("PORT");
        var aet = new Option<string>("--aet") { Description = "calling AE title", DefaultValueFactory = _ => "SI_DICOM" };
        var aec = new Option<string>("--aec") { Description = "called AE title", DefaultValueFactory = _ => "ANY-SCP" };
        var level = new Option<QueryRetrieveLevel>("--level") { Description = "PATIENT, STUDY, SERIES or IMAGE", DefaultValueFactory = _ => QueryRetrieveLevel.Study };
        var patientRoot = new Option<bool>("--patient-root") { Description = "use the Patient Root model (default Study Root)" };
        var keys = new Option<string[]>("-k", "--key") { Description = "matching/return key Keyword=Value (or Keyword= to return it)", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "print a JSON array of PS3.18 data sets on stdout" };
        var command = new Command("find", "C-FIND query") { host, port, aet, aec, level, patientRoot, keys, json };
        command.SetAction((parse, ct) => NetworkCliErrors.RunAsync(async () =>
        {
            var identifier = ParseKeys(parse.GetValue(keys) ?? []);
            var client = NetworkCliErrors.Client(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(aet)!, parse.GetValue(aec)!);
            var model = parse.GetValue(patientRoot) ? QueryModel.PatientRoot : QueryModel.StudyRoot;
            var asJson = parse.GetValue(json);
            await using var stdout = Console.OpenStandardOutput();
            await using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
            if (asJson) writer.WriteStartArray();
            var count = 0;
            await foreach (var match in client.FindAsync(model, parse.GetValue(level), identifier, ct))
            {
                count++;
                if (asJson)
                {
                    DicomJson.Write(writer, match);
                }
                else
                {
                    await Console.Out.WriteLineAsync($"# match {count}");
                    foreach (var item in match)
                        if (item is DicomElement e)
                            await Console.Out.WriteLineAsync($"{e.Tag} {e.VR} {(match.TryGetString(e.Tag, out var v) ? v : "")}");
                }
            }
            if (asJson)
            {
                writer.WriteEndArray();
                await writer.FlushAsync(ct);
                await stdout.WriteAsync("\n"u8.ToArray(), ct);
            }
            else
            {
                await Console.Error.WriteLineAsync($"{count} match(es)");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Builds the identifier from Keyword=Value pairs; SpecificCharacterSet defaults to UTF-8 when values are not ASCII.</summary>
    internal static DicomDataset ParseKeys(IEnumerable<string> pairs)
    {
        var ds = new DicomDataset();
        var parsed = pairs.Select(p =>
        {
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"Key '{p}' is not Keyword=Value.");
            return (Tag: DicomTag.Parse(p[..eq]), Value: p[(eq + 1)..]);
        }).ToList();
        if (parsed.All(k => k.Tag != DicomTag.SpecificCharacterSet) && parsed.Any(k => k.Value.Any(c => c > 127)))
            ds.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192");
        foreach (var (tag, value) in parsed.OrderBy(k => k.Tag == DicomTag.SpecificCharacterSet ? 0 : 1))
            ds.AddOrUpdate(tag, value);
        return ds;
    }
}
