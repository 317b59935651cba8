namespace ServerlessImaging.Dicom.Tests.Support;

/// <summary>Structural dataset equality: same tags, VRs and values (trailing padding aside), recursively.</summary>
internal static class DatasetAssert
{
    /// <param name="emptyNameComponentsInsignificant">PN "^^^^" equals an empty name (PS3.5 6.2.1), as DICOM JSON writes it.</param>
    public static void Equal(DicomDataset expected, DicomDataset actual, string path = "", bool emptyNameComponentsInsignificant = false)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Select(i => i.Tag.ToString()), a.Select(i => i.Tag.ToString()));
        for (var i = 0; i < e.Count; i++)
        {
            var where = $"{path}{e[i].Tag}";
            Assert.True(e[i].VR == a[i].VR, $"VR differs at {where}: {e[i].VR} vs {a[i].VR}");
            switch (e[i])
            {
                case DicomSequence sq:
                    var other = Assert.IsType<DicomSequence>(a[i]);
                    Assert.Equal(sq.Items.Count, other.Items.Count);
                    for (var k = 0; k < sq.Items.Count; k++)
                    {
                        Equal(sq.Items[k], other.Items[k], $"{where}[{k}]", emptyNameComponentsInsignificant);
                    }
                    break;
                case DicomFragmentSequence fs:
                    var ofs = Assert.IsType<DicomFragmentSequence>(a[i]);
                    Assert.Equal(fs.OffsetTable.ToArray(), ofs.OffsetTable.ToArray());
                    Assert.Equal(fs.Fragments.Count, ofs.Fragments.Count);
                    for (var k = 0; k < fs.Fragments.Count; k++)
                    {
                        Assert.Equal(Trim(fs.Fragments[k].GetBytes().ToArray()), Trim(ofs.Fragments[k].GetBytes().ToArray()));
                    }
                    break;
                case DicomElement el:
                    var ael = Assert.IsType<DicomElement>(a[i]);
                    var eb = Trim(el.Value.GetBytes().ToArray(), emptyNameComponentsInsignificant && el.VR == DicomVR.PN);
                    var ab = Trim(ael.Value.GetBytes().ToArray(), emptyNameComponentsInsignificant && el.VR == DicomVR.PN);
                    Assert.True(eb.AsSpan().SequenceEqual(ab), $"Value differs at {where}");
                    break;
            }
        }
    }

    // Odd-length values gain one padding byte when written; trailing spaces/NULs are padding for text.
    private static byte[] Trim(byte[] b, bool caret = false)
    {
        var n = b.Length;
        while (n > 0 && (b[n - 1] == 0 || b[n - 1] == (byte)' ' || (caret && b[n - 1] == (byte)'^')))
        {
            n--;
        }
        return b[..n];
    }
}
