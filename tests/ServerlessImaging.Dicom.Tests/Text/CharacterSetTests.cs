namespace ServerlessImaging.Dicom.Tests.Text;

public sealed class CharacterSetTests
{
    [Theory]
    [InlineData("ISO_IR 100", "Hélène Müller-Françoise")]
    [InlineData("ISO_IR 192", "Hélène 山田 Ωμέγα")]
    [InlineData("ISO_IR 144", "Иванов")]
    [InlineData("ISO_IR 126", "Ωμέγα")]
    [InlineData("ISO_IR 203", "Œuvre €")]
    [InlineData("GB18030", "王^小东")]
    [InlineData("ISO 2022 IR 100", "Hélène")]
    public void Text_round_trips_through_each_character_set(string term, string text)
    {
        var cs = DicomCharacterSet.Parse([term]);
        Assert.Equal(text, cs.Decode(cs.Encode(text)));
    }

    [Fact]
    public void Japanese_code_extensions_encode_with_escapes_and_decode_back()
    {
        var cs = DicomCharacterSet.Parse(["", "ISO 2022 IR 87"]);
        var bytes = cs.Encode("Yamada^Tarou=山田^太郎");
        Assert.Contains((byte)0x1B, bytes);
        Assert.Equal("Yamada^Tarou=山田^太郎", cs.Decode(bytes, isPersonName: true));

        var kana = DicomCharacterSet.Parse(["ISO 2022 IR 13", "ISO 2022 IR 87"]);
        Assert.Equal("ﾔﾏﾀﾞ^ﾀﾛｳ=山田", kana.Decode(kana.Encode("ﾔﾏﾀﾞ^ﾀﾛｳ=山田"), isPersonName: true));
    }

    [Fact]
    public void Korean_code_extension_decodes_the_standard_example()
    {
        // PS3.5 Annex I.2: Hong^Gildong=洪^吉洞=홍^길동
        byte[] bytes = [.. "Hong^Gildong="u8.ToArray(), 0x1B, 0x24, 0x29, 0x43, 0xFB, 0xF3, (byte)'^', 0x1B, 0x24, 0x29, 0x43, 0xD1, 0xCE, 0xD4, 0xD7, (byte)'=',
            0x1B, 0x24, 0x29, 0x43, 0xC8, 0xAB, (byte)'^', 0x1B, 0x24, 0x29, 0x43, 0xB1, 0xE6, 0xB5, 0xBF];
        var cs = DicomCharacterSet.Parse(["", "ISO 2022 IR 149"]);
        Assert.Equal("Hong^Gildong=洪^吉洞=홍^길동", cs.Decode(bytes, isPersonName: true));
    }

    [Fact]
    public void Invalid_bytes_and_unencodable_text_raise_typed_errors_never_replacement_characters()
    {
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Utf8.Decode([0xC3, 0x28]));
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Default.Decode("é"u8));
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Parse(["ISO_IR 100"]).Encode("山田"));
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Parse(["ISO_IR 999"]));
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Parse(["", "ISO 2022 IR 159"]));
        Assert.Throws<DicomCharacterSetException>(() => DicomCharacterSet.Parse(["", "ISO 2022 IR 87"]).Decode([0x1B, 0x2D, 0x41, 0xE9]));
    }

    [Fact]
    public void Dataset_text_follows_the_declared_character_set_and_items_inherit_it()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100");
        ds.AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents("Buc", "Jérôme"));
        Assert.Equal([0x42, 0x75, 0x63, 0x5E, 0x4A, 0xE9, 0x72, 0xF4, 0x6D, 0x65], ds.GetBytes(DicomTag.PatientName).ToArray());
        var item = new DicomDataset();
        ds.AddOrUpdate(DicomTag.ReferencedStudySequence, item);
        item.AddOrUpdate(DicomTag.StudyDescription, "Thorax-abdomen-pelvis avec injection (été)");
        Assert.Equal("ISO_IR 100", item.CharacterSet.ToString());
        Assert.Equal("Thorax-abdomen-pelvis avec injection (été)", item.GetString(DicomTag.StudyDescription));
        Assert.Throws<DicomCharacterSetException>(() => ds.AddOrUpdate(DicomTag.PatientComments, "山田"));
    }
}
