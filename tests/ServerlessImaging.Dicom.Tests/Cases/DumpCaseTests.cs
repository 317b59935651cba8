using ServerlessImaging.Dicom.Tests.Support;

namespace ServerlessImaging.Dicom.Tests.Cases;

/// <summary>Edge cases built by dcmtk's dump2dcm from the committed text dumps beside this file.</summary>
public sealed class DumpCaseTests
{
    private static async Task<DicomFile> BuildAsync(string dump, params string[] options)
    {
        var output = Path.Combine(TestPaths.TempDir(), dump + ".dcm");
        var result = await Dcmtk.RunAsync("dump2dcm", [.. options, Path.Combine(TestPaths.CasesDir, dump), output]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        return await DicomFile.OpenAsync(output);
    }

    [Fact]
    public async Task Iso2022_japanese_person_name_decodes_all_three_groups()
    {
        var file = await BuildAsync("iso2022-japanese.dump");
        var name = file.Dataset.GetPersonName(DicomTag.PatientName);
        Assert.Equal("Yamada^Tarou", name.Alphabetic);
        Assert.Equal("山田^太郎", name.Ideographic);
        Assert.Equal("やまだ^たろう", name.Phonetic);
        Assert.Equal("山田", DicomPersonName.Parse(name.Ideographic).FamilyName);

        // Encoding it again in the same character set gives the standard's exact bytes.
        var raw = file.Dataset.GetBytes(DicomTag.PatientName).ToArray();
        var again = file.Dataset.CharacterSet.Encode(name.ToString());
        Assert.Equal(raw.AsSpan().TrimEnd((byte)' ').ToArray(), again);

        var json = DicomJson.Serialize(file.Dataset);
        Assert.Contains("\"Ideographic\":\"山田^太郎\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Multi_valued_names_empty_values_and_empty_middle_values_are_kept()
    {
        var file = await BuildAsync("multivalued-and-empty.dump");
        var ds = file.Dataset;
        var names = ds.GetPersonNames(DicomTag.OtherPatientNames);
        Assert.Equal(3, names.Count);
        Assert.Equal("Hélène", names[0].GivenName);
        Assert.Equal("Éric", names[1].GivenName);
        Assert.Equal("山田^太郎", names[2].Ideographic);
        Assert.Equal("Mme", ds.GetPersonName(DicomTag.PatientName).Prefix);
        Assert.True(ds.Contains(DicomTag.AccessionNumber));
        Assert.Equal("", ds.GetString(DicomTag.AccessionNumber));
        Assert.Equal("", ds.GetString(DicomTag.PatientID));
        Assert.Equal(["1", "", "3"], ds.GetStrings(DicomTag.InstanceNumber));
        Assert.Equal([0.5, 0.25], ds.GetDoubles(DicomTag.PixelSpacing));

        var json = DicomJson.Serialize(ds);
        Assert.Contains("\"00200013\":{\"vr\":\"IS\",\"Value\":[1,null,3]}", json, StringComparison.Ordinal);
        Assert.Contains("\"00080050\":{\"vr\":\"SH\"}", json, StringComparison.Ordinal);
        DatasetAssert.Equal(ds, DicomJson.Deserialize(json));
    }

    [Theory]
    [InlineData("-e +te")]
    [InlineData("-e +ti")]
    [InlineData("-e +tb")]
    [InlineData("-e +td")]
    [InlineData("+g +ti")]
    [InlineData("+g +te")]
    public async Task Ten_levels_of_nested_sequences_read_and_round_trip(string dump2dcmOptions)
    {
        var file = await BuildAsync("deep-undefined-length-nesting.dump", dump2dcmOptions.Split(' '));
        var item = file.Dataset;
        for (var level = 1; level <= 10; level++)
        {
            item = Assert.Single(item.GetSequence(DicomTag.ContentSequence).Items);
            Assert.Equal($"level {level}", item.GetString(DicomTag.TextValue));
        }
        Assert.Equal(DicomCharacterSet.Parse(["ISO_IR 100"]).Terms, item.CharacterSet.Terms); // inherited from the top

        var bytes = await file.ToBytesAsync();
        DatasetAssert.Equal(file.Dataset, (await DicomFile.OpenAsync(new MemoryStream(bytes))).Dataset);
    }
}
