namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>Compares two data sets element by element (tags, and value bytes as little endian), recursing into sequences.</summary>
public static class DatasetAssert
{
    public static async Task SameContentAsync(string expectedFile, string actualFile)
    {
        var expected = await DicomFile.OpenAsync(expectedFile);
        var actual = await DicomFile.OpenAsync(actualFile);
        Same(expected.Dataset, actual.Dataset, "");
    }

    private static void Same(DicomDataset expected, DicomDataset actual, string path)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Select(i => i.Tag), a.Select(i => i.Tag));
        for (var i = 0; i < e.Count; i++)
        {
            var where = path + e[i].Tag;
            switch (e[i], a[i])
            {
                case (DicomElement x, DicomElement y):
                    Assert.True(x.Value.GetBytes().Span.SequenceEqual(y.Value.GetBytes().Span), $"value of {where} differs");
                    break;
                case (DicomSequence x, DicomSequence y):
                    Assert.Equal(x.Items.Count, y.Items.Count);
                    for (var k = 0; k < x.Items.Count; k++) Same(x.Items[k], y.Items[k], where + "/");
                    break;
                default:
                    Assert.Fail($"{where}: {e[i].GetType().Name} became {a[i].GetType().Name}");
                    break;
            }
        }
    }

    /// <summary>The transfer syntax UID written in a Part 10 file's meta.</summary>
    public static async Task<string> TransferSyntaxOfAsync(string file)
    {
        await using var stream = File.OpenRead(file);
        return (await Storage.Part10Header.ReadAsync(stream, CancellationToken.None)).TransferSyntaxUid;
    }
}
