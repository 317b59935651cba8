using System.Globalization;
using System.Text.Json.Nodes;
using ServerlessImaging.Dicom.Tests.Support;

namespace ServerlessImaging.Dicom.Tests.Corpus;

/// <summary>Every corpus file against dcmtk: our JSON equals dcm2json's, read-write-read is lossless, dcmdump accepts what we write.</summary>
public sealed class CorpusTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in TestPaths.CorpusFiles)
        {
            data.Add(Path.GetFileName(f));
        }
        return data;
    }

    private static string PathOf(string name) => Path.Combine(TestPaths.Corpus, name);

    private static readonly HashSet<string> BinaryVRs = ["OB", "OD", "OF", "OL", "OV", "OW", "UN"];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Json_matches_dcm2json_for_every_non_binary_element(string name)
    {
        var file = await DicomFile.OpenAsync(PathOf(name));
        var ours = JsonNode.Parse(DicomJson.Serialize(file.Dataset))!.AsObject();

        var source = PathOf(name);
        if (file.Dataset[DicomTag.PixelData] is DicomFragmentSequence)
        {
            // dcm2json refuses encapsulated pixel data; remove it with dcmtk itself from a copy.
            var copy = Path.Combine(TestPaths.TempDir(), name);
            File.Copy(source, copy);
            var mod = await Dcmtk.RunAsync("dcmodify", "-nb", "-ea", "(7fe0,0010)", copy);
            Assert.True(mod.ExitCode == 0, mod.StdErr);
            source = copy;
            ours.Remove("7FE00010");
        }
        var result = await Dcmtk.RunAsync("dcm2json", source);
        Assert.True(result.ExitCode == 0, result.StdErr);
        var theirs = JsonNode.Parse(result.StdOut)!.AsObject();

        var compared = CompareDatasets(theirs, ours, "");
        Assert.True(compared > 0, "nothing was compared");
    }

    private static int CompareDatasets(JsonObject theirs, JsonObject ours, string path)
    {
        var count = 0;
        // dcm2json writes group lengths, which we drop on read (documented); it rewrites the character set to UTF-8.
        var theirKeys = theirs.Select(p => p.Key).Where(k => !k.EndsWith("0000", StringComparison.Ordinal) && k != "00080005").ToList();
        var ourKeys = ours.Select(p => p.Key).Where(k => k != "00080005").ToList();
        Assert.Equal(theirKeys, ourKeys);
        foreach (var key in theirKeys)
        {
            var t = theirs[key]!.AsObject();
            var o = ours[key]!.AsObject();
            var where = $"{path}{key}";
            var vr = (string)t["vr"]!;
            Assert.True(vr == (string)o["vr"]!, $"VR differs at {where}: {vr} vs {(string)o["vr"]!}");
            if (BinaryVRs.Contains(vr))
            {
                continue;
            }
            var tv = t["Value"] as JsonArray;
            var ov = o["Value"] as JsonArray;
            Assert.True((tv?.Count ?? 0) == (ov?.Count ?? 0), $"Value count differs at {where}");
            for (var i = 0; i < (tv?.Count ?? 0); i++)
            {
                var a = tv![i];
                var b = ov![i];
                if (vr == "SQ")
                {
                    count += CompareDatasets(a!.AsObject(), b!.AsObject(), $"{where}[{i}].");
                    continue;
                }
                CompareValue(vr, a, b, $"{where}[{i}]");
                count++;
            }
            count++;
        }
        return count;
    }

    private static void CompareValue(string vr, JsonNode? a, JsonNode? b, string where)
    {
        if (a is null || b is null)
        {
            // dcm2json writes empty values of a multi-valued element as null, as do we; an empty single value too.
            Assert.True(a is null && b is null || IsEmptyString(a) || IsEmptyString(b), $"Null mismatch at {where}");
            return;
        }
        if (a is JsonValue av && b is JsonValue bv && av.TryGetValue<decimal>(out _) && bv.TryGetValue<decimal>(out _))
        {
            // Numbers: dcm2json formats FL/FD and DS its own way ("0.000000"); compare values, FL at float precision.
            var x = double.Parse(av.ToJsonString(), CultureInfo.InvariantCulture);
            var y = double.Parse(bv.ToJsonString(), CultureInfo.InvariantCulture);
            var tolerance = vr is "FL" or "OF" ? 1e-6 : 1e-12;
            Assert.True(Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x)), $"Number differs at {where}: {x} vs {y}");
            return;
        }
        Assert.True(JsonNode.DeepEquals(a, b), $"Value differs at {where}: {a.ToJsonString()} vs {b.ToJsonString()}");
    }

    private static bool IsEmptyString(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0;

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Read_write_read_gives_an_equal_dataset_and_dcmdump_accepts_it(string name)
    {
        var original = await DicomFile.OpenAsync(PathOf(name));
        var output = Path.Combine(TestPaths.TempDir(), name);
        await original.SaveAsync(output);

        var reread = await DicomFile.OpenAsync(output);
        DatasetAssert.Equal(original.Dataset, reread.Dataset);
        Assert.Equal(original.TransferSyntax.IsEncapsulated ? original.TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian, reread.TransferSyntax);

        var dump = await Dcmtk.RunAsync("dcmdump", output);
        Assert.True(dump.ExitCode == 0, dump.StdErr);
        var complaints = (dump.StdOut + dump.StdErr).Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("W:", StringComparison.Ordinal)).ToList();
        Assert.Empty(complaints);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Implicit_and_big_endian_rewrites_read_back_equal(string name)
    {
        var original = await DicomFile.OpenAsync(PathOf(name));
        if (original.TransferSyntax.IsEncapsulated)
        {
            await Assert.ThrowsAsync<DicomUnsupportedTransferSyntaxException>(() => original.ToBytesAsync(DicomTransferSyntax.ImplicitVRLittleEndian));
            return;
        }
        foreach (var syntax in new[] { DicomTransferSyntax.ImplicitVRLittleEndian, DicomTransferSyntax.ExplicitVRBigEndian, DicomTransferSyntax.DeflatedExplicitVRLittleEndian })
        {
            var bytes = await original.ToBytesAsync(syntax);
            var reread = await DicomFile.OpenAsync(new MemoryStream(bytes));
            Assert.Equal(syntax, reread.TransferSyntax);
            DatasetAssert.Equal(Normalise(original.Dataset, syntax), reread.Dataset);
        }
    }

    // Implicit VR loses the VR of private/unknown elements (they come back as UN), so compare through the same lens.
    private static DicomDataset Normalise(DicomDataset ds, DicomTransferSyntax syntax)
    {
        if (syntax.IsExplicitVR)
        {
            return ds;
        }
        var copy = new DicomDataset();
        foreach (var item in ds)
        {
            var implicitVR = DicomDictionary.ImplicitVR(item.Tag);
            copy.AddOrUpdate(item switch
            {
                DicomSequence sq => new DicomSequence(sq.Tag, sq.Items.Select(i => Normalise(i, syntax))),
                DicomElement e when e.Tag == DicomTag.PixelData => new DicomElement(e.Tag, DicomVR.OW, e.Value),
                DicomElement e when e.VR != implicitVR && implicitVR != DicomVR.NONE && !(e.VR == DicomVR.SS && implicitVR == DicomVR.US) => new DicomElement(e.Tag, implicitVR, e.Value),
                _ => item,
            });
        }
        return copy;
    }
}
