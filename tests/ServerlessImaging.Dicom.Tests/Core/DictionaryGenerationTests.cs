using ServerlessImaging.Dicom.Tests.Support;
using ServerlessImaging.DicomDictionaryGenerator;

namespace ServerlessImaging.Dicom.Tests.Core;

public sealed class DictionaryGenerationTests
{
    private const string DicFile = "/usr/share/libdcmtk17/dicom.dic";

    [Fact]
    public void Committed_dictionary_equals_a_fresh_generation_from_dcmtk()
    {
        Assert.True(File.Exists(DicFile), $"{DicFile} missing: apt-get install dcmtk");
        var generated = DictionaryGenerator.Generate(File.ReadAllText(DicFile));
        var committed = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "functions/ServerlessImaging.Dicom/Dictionary/DicomDictionary.Generated.cs"));
        Assert.Equal(committed, generated);
    }

    [Fact]
    public void Compact_table_parses_into_every_entry_with_names_the_generator_would_give()
    {
        var entries = DicomDictionary.Entries.ToList();
        // One entry per line of the generated table (the last line has no newline); 4,991 for dcmtk 3.6.7's dicom.dic.
        Assert.Equal(System.MemoryExtensions.Count(DicomDictionaryTable.Lines, (byte)'\n') + 1, entries.Count);
        Assert.True(entries.Count > 4900, $"only {entries.Count} entries parsed");
        foreach (var e in entries)
        {
            Assert.Equal(DictionaryGenerator.Words(e.Keyword), e.Name);
            Assert.NotEmpty(e.ValueRepresentations);
            Assert.False(string.IsNullOrEmpty(e.ValueMultiplicity), e.Keyword);
        }
        var sopInstance = DicomDictionary.FindByKeyword("SOPInstanceUID")!;
        Assert.Equal("SOP Instance UID", sopInstance.Name);
        Assert.Equal(DicomTag.SOPInstanceUID, new DicomTag(sopInstance.GroupLow, sopInstance.ElementLow));
        var overlay = DicomDictionary.Find(new DicomTag(0x60FE, 0x3000))!;
        Assert.Equal((0x6000, 0x60FF), (overlay.GroupLow, overlay.GroupHigh));
        Assert.Equal([DicomVR.OB, DicomVR.OW], overlay.ValueRepresentations);
        Assert.Equal("2-n", DicomDictionary.Find(DicomTag.ImageType)!.ValueMultiplicity);
        Assert.Equal(DicomVR.NONE, DicomDictionary.Find(DicomTag.Item)!.DefaultVR);
    }

    [Fact]
    public void Dictionary_knows_public_repeating_and_private_tags()
    {
        Assert.Equal(DicomVR.PN, DicomDictionary.Find(DicomTag.PatientName)!.DefaultVR);
        Assert.Equal("PatientName", DicomTag.PatientName.Keyword);
        Assert.Equal("OverlayRows", DicomDictionary.Find(new DicomTag(0x6002, 0x0010))!.Keyword);
        Assert.Null(DicomDictionary.Find(new DicomTag(0x6001, 0x0010))?.Keyword is "OverlayRows" ? "wrong" : null);
        Assert.Equal("RETIRED_CurveDimensions".Replace("RETIRED_", "", StringComparison.Ordinal), DicomDictionary.Find(new DicomTag(0x5004, 0x0005))!.Keyword);
        Assert.True(DicomDictionary.Find(new DicomTag(0x5004, 0x0005))!.IsRetired);
        Assert.Equal(DicomVR.LO, DicomDictionary.Find(new DicomTag(0x0029, 0x0010))!.DefaultVR);
        Assert.Equal(DicomVR.UN, DicomDictionary.Find(new DicomTag(0x0029, 0x1010))!.DefaultVR);
        Assert.Equal([DicomVR.US, DicomVR.SS], DicomDictionary.Find(DicomTag.SmallestImagePixelValue)!.ValueRepresentations);
        Assert.Null(DicomDictionary.Find(new DicomTag(0x0010, 0x9999)));
    }

    [Theory]
    [InlineData("(0010,0010)")]
    [InlineData("00100010")]
    [InlineData("0010,0010")]
    [InlineData("PatientName")]
    public void Tags_parse_from_every_written_form(string text) => Assert.Equal(DicomTag.PatientName, DicomTag.Parse(text));

    [Fact]
    public void Unknown_tag_text_is_a_typed_error() => Assert.Throws<DicomValueException>(() => DicomTag.Parse("NoSuchKeyword"));

    [Fact]
    public void Generated_uids_are_valid_and_unique()
    {
        var a = DicomUid.Generate();
        var b = DicomUid.Generate();
        Assert.StartsWith("2.25.", a, StringComparison.Ordinal);
        Assert.True(DicomUid.IsValid(a) && a.Length <= 64);
        Assert.NotEqual(a, b);
        Assert.False(DicomUid.IsValid("1.02.3"));
        Assert.True(DicomUid.IsValid(DicomUid.ImplementationClassUid));
    }

    [Fact]
    public void Vrs_know_their_explicit_length_size_and_padding()
    {
        Assert.Equal(34, DicomVR.All.Count);
        foreach (var code in new[] { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" })
        {
            Assert.True(DicomVR.Parse(code).HasLongLengthInExplicitVR, code);
        }
        Assert.False(DicomVR.LO.HasLongLengthInExplicitVR);
        Assert.Equal((byte)0, DicomVR.UI.PaddingByte);
        Assert.Equal((byte)' ', DicomVR.SH.PaddingByte);
        Assert.True(DicomVR.PN.UsesSpecificCharacterSet);
        Assert.False(DicomVR.CS.UsesSpecificCharacterSet);
    }

    [Fact]
    public void Every_standard_transfer_syntax_is_known_and_unknown_ones_raise()
    {
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.4.50").IsEncapsulated);
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.4.80").IsEncapsulated);
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.4.107").IsEncapsulated);
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.5").IsEncapsulated);
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.1.99").IsDeflated);
        Assert.True(DicomTransferSyntax.Parse("1.2.840.10008.1.2.2").IsBigEndian);
        Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomTransferSyntax.Parse("1.2.3.4"));
    }
}
