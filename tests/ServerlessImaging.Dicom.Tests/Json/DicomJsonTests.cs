using ServerlessImaging.Dicom.Tests.Support;

namespace ServerlessImaging.Dicom.Tests.Json;

public sealed class DicomJsonTests
{
    [Theory]
    [MemberData(nameof(Corpus.CorpusTests.Files), MemberType = typeof(Corpus.CorpusTests))]
    public async Task Json_round_trips_every_corpus_dataset(string name)
    {
        var file = await DicomFile.OpenAsync(Path.Combine(TestPaths.Corpus, name));
        var json = DicomJson.Serialize(file.Dataset);
        DatasetAssert.Equal(file.Dataset, DicomJson.Deserialize(json), emptyNameComponentsInsignificant: true);
    }

    [Fact]
    public void Values_use_the_PS3_18_shapes()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.PatientName, new DicomPersonName("Yamada^Tarou", "山田^太郎"))
            .AddOrUpdate(DicomTag.SeriesNumber, "12")
            .AddOrUpdate(DicomTag.SliceThickness, "2.50")
            .AddOrUpdate(DicomTag.Rows, (ushort)512)
            .AddOrUpdate(DicomTag.OffendingElement, DicomVR.AT, "00100010")
            .AddOrUpdate(DicomTag.PixelData, DicomVR.OW, new byte[] { 1, 2, 3, 4 });
        var json = DicomJson.Serialize(ds);
        Assert.Contains("\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Yamada^Tarou\",\"Ideographic\":\"山田^太郎\"}]}", json, StringComparison.Ordinal);
        Assert.Contains("\"00200011\":{\"vr\":\"IS\",\"Value\":[12]}", json, StringComparison.Ordinal);
        Assert.Contains("\"00180050\":{\"vr\":\"DS\",\"Value\":[2.50]}", json, StringComparison.Ordinal);
        Assert.Contains("\"00280010\":{\"vr\":\"US\",\"Value\":[512]}", json, StringComparison.Ordinal);
        Assert.Contains("\"00000901\":{\"vr\":\"AT\",\"Value\":[\"00100010\"]}", json, StringComparison.Ordinal);
        Assert.Contains("\"7FE00010\":{\"vr\":\"OW\",\"InlineBinary\":\"AQIDBA==\"}", json, StringComparison.Ordinal);

        var withUri = DicomJson.Serialize(ds, new DicomJsonOptions { BulkDataUri = (item, path) => item.Tag == DicomTag.PixelData ? "http://x/bulk/7FE00010" : null });
        Assert.Contains("\"BulkDataURI\":\"http://x/bulk/7FE00010\"", withUri, StringComparison.Ordinal);
        var back = DicomJson.Deserialize(withUri);
        var source = Assert.IsType<BulkDataReferenceSource>(((DicomElement)back[DicomTag.PixelData]!).Value);
        Assert.Equal("http://x/bulk/7FE00010", source.Uri);
        Assert.Equal("山田^太郎", back.GetPersonName(DicomTag.PatientName).Ideographic);

        // Non-ASCII text with no declared character set becomes UTF-8 rather than failing or being mangled.
        var undeclared = DicomJson.Deserialize("{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Buc^Jérôme\"}]}}");
        Assert.Equal("ISO_IR 192", undeclared.GetString(DicomTag.SpecificCharacterSet));
        Assert.Equal("Jérôme", undeclared.GetPersonName(DicomTag.PatientName).GivenName);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"0010001\":{\"vr\":\"PN\"}}")]
    [InlineData("{\"00100010\":{\"vr\":\"XX\"}}")]
    [InlineData("{\"00280010\":{\"vr\":\"US\",\"Value\":[\"abc\"]}}")]
    [InlineData("{\"00280010\":{\"vr\":\"US\",\"Value\":[70000]}}")]
    [InlineData("{\"00100010\":{\"vr\":\"PN\",\"Value\":[")]
    [InlineData("{\"00081115\":{\"vr\":\"SQ\",\"Value\":[1]}}")]
    public void Malformed_json_raises_a_dicom_json_exception(string json) =>
        Assert.Throws<DicomJsonException>(() => DicomJson.Deserialize(json));
}
